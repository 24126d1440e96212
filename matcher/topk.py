"""Blocked sparse top-k: the best k columns of left @ right.T per row, block by block.

Memory is bounded by one block of rows times the other side, never a dense N x M matrix.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray


def row_topk(
    left: sp.csr_matrix, right: sp.csr_matrix, k: int, block_size: int = 1024
) -> Iterator[tuple[int, NDArray[np.int64], NDArray[np.float64]]]:
    """Yield (row, columns, scores) with the k best positive scores of each left row.

    Ties are broken by the smaller column index, so the output is deterministic.
    """
    if k <= 0:
        raise ValueError("k must be positive")
    right_t = right.T.tocsr()
    for start in range(0, left.shape[0], block_size):
        block = (left[start : start + block_size] @ right_t).tocsr()
        block.sort_indices()
        for offset in range(block.shape[0]):
            lo, hi = block.indptr[offset], block.indptr[offset + 1]
            if lo == hi:
                continue
            scores = block.data[lo:hi]
            columns = block.indices[lo:hi]
            keep = scores > 0
            scores, columns = scores[keep], columns[keep]
            order = np.lexsort((columns, -scores))[:k]
            yield start + offset, columns[order].astype(np.int64), scores[order].astype(np.float64)


def mutual_topk(
    left: sp.csr_matrix, right: sp.csr_matrix, k: int, block_size: int = 1024
) -> dict[tuple[int, int], float]:
    """The union of each left row's top k and each right row's top k, as {(i, j): score}."""
    pairs: dict[tuple[int, int], float] = {}
    for i, columns, scores in row_topk(left, right, k, block_size):
        for j, score in zip(columns.tolist(), scores.tolist(), strict=True):
            pairs[(i, j)] = score
    for j, rows, scores in row_topk(right, left, k, block_size):
        for i, score in zip(rows.tolist(), scores.tolist(), strict=True):
            pairs[(i, j)] = score
    return pairs
