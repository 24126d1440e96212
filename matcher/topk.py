"""Blocked sparse top-k, both directions in one pass.

For one field, left rows (Japanese profiles) are scored against right rows (Canadian
profiles) term by term through an inverted index of the right side, with a dense
accumulator of the right side's size; a block of left rows yields each row's top k and,
for every right row, its best k left rows *within the block*. Merging the blocks' column
candidates gives each right row's exact top k. Memory is one accumulator per thread plus
k candidates per right row: never a dense N x M matrix. A block is the unit of work a
worker takes; blocks are independent and can run on different machines.

Order is deterministic: score descending, then the smaller index (ids are sorted).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
IndexArray = NDArray[np.int32]

# numba's default threading layer must not run two parallel regions at once: web
# threads that rematch concurrently take turns here.
KERNEL_LOCK = threading.Lock()


@dataclass(frozen=True)
class BlockTopK:
    """Top k of a block of left rows, and each right row's best k left rows in it."""

    start: int
    stop: int
    row_index: IntArray  # (stop - start, k) right indices, -1 where fewer
    row_score: FloatArray  # (stop - start, k)
    col_index: IntArray  # (n_right, k) left indices (global), -1 where fewer
    col_score: FloatArray  # (n_right, k)


@dataclass(frozen=True)
class PairArrays:
    """Pairs as parallel arrays: left index, right index, score."""

    left: IntArray
    right: IntArray
    score: FloatArray

    def as_dict(self) -> dict[tuple[int, int], float]:
        return {
            (i, j): s
            for i, j, s in zip(
                self.left.tolist(), self.right.tolist(), self.score.tolist(), strict=True
            )
        }


@numba.njit(cache=True, inline="always")
def _better(score_a: float, index_a: int, score_b: float, index_b: int) -> bool:
    return score_a > score_b or (score_a == score_b and index_a < index_b)


@numba.njit(cache=True)
def _heap_push(scores: FloatArray, indices: IntArray, score: float, index: int) -> None:
    """Keep the k best in a min-heap whose root (slot 0) is the worst kept."""
    k = scores.shape[0]
    if not _better(score, index, scores[0], indices[0]):
        return
    scores[0] = score
    indices[0] = index
    position = 0
    while True:
        left = 2 * position + 1
        if left >= k:
            break
        worst = left
        right = left + 1
        if right < k and _better(scores[worst], indices[worst], scores[right], indices[right]):
            worst = right
        if _better(scores[position], indices[position], scores[worst], indices[worst]):
            scores[position], scores[worst] = scores[worst], scores[position]
            indices[position], indices[worst] = indices[worst], indices[position]
            position = worst
        else:
            break


@numba.njit(cache=True)
def _is_excluded(excluded: IntArray, key: int) -> bool:
    if excluded.shape[0] == 0:
        return False
    position = np.searchsorted(excluded, key)
    return bool(position < excluded.shape[0] and excluded[position] == key)


@numba.njit(cache=True, parallel=True)
def _block_kernel(
    left_indptr: IntArray,
    left_indices: IndexArray,
    left_data: FloatArray,
    term_indptr: IntArray,
    term_rows: IndexArray,
    term_data: FloatArray,
    n_right: int,
    start: int,
    stop: int,
    k: int,
    left_kind: NDArray[np.int8],
    right_kind: NDArray[np.int8],
    weights: FloatArray,
    excluded: IntArray,
    n_chunks: int,
) -> tuple[FloatArray, IntArray, FloatArray, IntArray]:
    n_rows = stop - start
    row_score = np.full((n_rows, k), -1.0)
    row_index = np.full((n_rows, k), -1, dtype=np.int64)
    chunk_score = np.full((n_chunks, n_right, k), -1.0)
    chunk_index = np.full((n_chunks, n_right, k), -1, dtype=np.int64)
    # The worst kept candidate of every column heap, contiguous: most scores stop here.
    floor_score = np.full((n_chunks, n_right), -1.0)
    floor_index = np.full((n_chunks, n_right), -1, dtype=np.int64)
    per_chunk = (n_rows + n_chunks - 1) // n_chunks
    for chunk in numba.prange(n_chunks):
        accumulator = np.zeros(n_right, dtype=np.float32)
        first = start + chunk * per_chunk
        last = min(stop, first + per_chunk)
        for i in range(first, last):
            # No list of touched columns: a row's postings outnumber the right side, so
            # a branch-free accumulation and one linear scan beat tracking them.
            for p in range(left_indptr[i], left_indptr[i + 1]):
                weight = left_data[p]
                term = left_indices[p]
                for q in range(term_indptr[term], term_indptr[term + 1]):
                    accumulator[term_rows[q]] += weight * term_data[q]
            heap_scores = row_score[i - start]
            heap_indices = row_index[i - start]
            row_floor = -1.0
            row_floor_index = -1
            kind_weights = weights[left_kind[i]]
            for j in range(n_right):
                if accumulator[j] == 0.0:
                    continue
                score = accumulator[j] * kind_weights[right_kind[j]]
                accumulator[j] = 0.0
                if score <= 0.0:
                    continue
                to_row = _better(score, j, row_floor, row_floor_index)
                to_column = _better(score, i, floor_score[chunk, j], floor_index[chunk, j])
                if not (to_row or to_column):
                    continue
                if _is_excluded(excluded, i * n_right + j):
                    continue
                if to_row:
                    _heap_push(heap_scores, heap_indices, score, j)
                    row_floor = heap_scores[0]
                    row_floor_index = heap_indices[0]
                if to_column:
                    _heap_push(chunk_score[chunk, j], chunk_index[chunk, j], score, i)
                    floor_score[chunk, j] = chunk_score[chunk, j, 0]
                    floor_index[chunk, j] = chunk_index[chunk, j, 0]
    # Fold the chunks' column candidates into the first chunk.
    col_score = chunk_score[0].copy()
    col_index = chunk_index[0].copy()
    for chunk in range(1, n_chunks):
        for j in numba.prange(n_right):
            for slot in range(k):
                if chunk_index[chunk, j, slot] >= 0:
                    _heap_push(
                        col_score[j],
                        col_index[j],
                        chunk_score[chunk, j, slot],
                        chunk_index[chunk, j, slot],
                    )
    return row_score, row_index, col_score, col_index


@numba.njit(cache=True)
def _sort_heaps(scores: FloatArray, indices: IntArray) -> None:
    """Sort each heap row best first; empty slots (-1) go last."""
    for r in range(scores.shape[0]):
        order = np.argsort(-scores[r] * 1.0, kind="mergesort")
        s = scores[r][order]
        x = indices[r][order]
        # Ties: smaller index first.
        n = s.shape[0]
        for a in range(n):
            for b in range(a + 1, n):
                if s[b] == s[a] and x[b] >= 0 and (x[a] < 0 or x[b] < x[a]):
                    s[a], s[b] = s[b], s[a]
                    x[a], x[b] = x[b], x[a]
        scores[r] = s
        indices[r] = x


class FieldProblem:
    """One field's left and right matrices, prepared for block scoring."""

    def __init__(
        self,
        left: sp.csr_matrix,
        right: sp.csr_matrix,
        *,
        k: int,
        left_kind: NDArray[np.int8] | None = None,
        right_kind: NDArray[np.int8] | None = None,
        weights: FloatArray | None = None,
        excluded: IntArray | None = None,
    ) -> None:
        if k <= 0:
            raise ValueError("k must be positive")
        self.k = k
        self.n_left, self.n_right = left.shape[0], right.shape[0]
        left = left.tocsr()
        self.left_indptr = left.indptr.astype(np.int64)
        self.left_indices = left.indices.astype(np.int32)
        self.left_data = left.data.astype(np.float32)
        inverted = right.tocsc()  # term -> right rows
        self.term_indptr = inverted.indptr.astype(np.int64)
        self.term_rows = inverted.indices.astype(np.int32)
        self.term_data = inverted.data.astype(np.float32)
        self.left_kind = left_kind if left_kind is not None else np.zeros(self.n_left, np.int8)
        self.right_kind = right_kind if right_kind is not None else np.zeros(self.n_right, np.int8)
        self.weights = weights if weights is not None else np.ones((2, 2))
        self.excluded = np.sort(excluded) if excluded is not None else np.empty(0, np.int64)

    def block(
        self, start: int, stop: int, *, n_threads: int | None = None, chunks_per_thread: int = 1
    ) -> BlockTopK:
        """Score left rows [start, stop): the unit of work of a block task."""
        stop = min(stop, self.n_left)
        threads = n_threads or numba.get_num_threads()
        n_chunks = max(1, min(threads * chunks_per_thread, stop - start))
        with KERNEL_LOCK:
            row_score, row_index, col_score, col_index = _block_kernel(
                self.left_indptr, self.left_indices, self.left_data,
                self.term_indptr, self.term_rows, self.term_data,
                self.n_right, start, stop, self.k,
                self.left_kind, self.right_kind, self.weights, self.excluded, n_chunks,
            )  # fmt: skip
        _sort_heaps(row_score, row_index)
        return BlockTopK(start, stop, row_index, row_score, col_index, col_score)

    def blocks(self, block_size: int) -> list[tuple[int, int]]:
        """The [start, stop) ranges that cover the left side."""
        return [(s, min(s + block_size, self.n_left)) for s in range(0, self.n_left, block_size)]

    def combine(self, results: list[BlockTopK]) -> PairArrays:
        """Union of every left row's top k and every right row's top k."""
        lefts, rights, scores = [], [], []
        col_score = np.full((self.n_right, self.k), -1.0)
        col_index = np.full((self.n_right, self.k), -1, dtype=np.int64)
        for result in results:
            rows, slots = np.nonzero(result.row_index >= 0)
            lefts.append(rows + result.start)
            rights.append(result.row_index[rows, slots])
            scores.append(result.row_score[rows, slots])
            with KERNEL_LOCK:
                _merge_columns(col_score, col_index, result.col_score, result.col_index)
        cols, slots = np.nonzero(col_index >= 0)
        lefts.append(col_index[cols, slots])
        rights.append(cols.astype(np.int64))
        scores.append(col_score[cols, slots])
        left = np.concatenate(lefts).astype(np.int64)
        right = np.concatenate(rights).astype(np.int64)
        score = np.concatenate(scores).astype(np.float64)
        # A pair in both sides' top k appears twice: keep one, ordered by (left, right).
        _, first = np.unique(left * self.n_right + right, return_index=True)
        return PairArrays(left[first], right[first], score[first])

    def mutual_topk(self, block_size: int = 4096) -> dict[tuple[int, int], float]:
        """Every block scored here, then combined, as {(left, right): score}."""
        return self.combine([self.block(a, b) for a, b in self.blocks(block_size)]).as_dict()


@numba.njit(cache=True, parallel=True)
def _merge_columns(
    col_score: FloatArray, col_index: IntArray, new_score: FloatArray, new_index: IntArray
) -> None:
    for j in numba.prange(col_score.shape[0]):
        for slot in range(new_score.shape[1]):
            if new_index[j, slot] >= 0:
                _heap_push(col_score[j], col_index[j], new_score[j, slot], new_index[j, slot])


def mutual_topk(
    left: sp.csr_matrix, right: sp.csr_matrix, k: int, block_size: int = 4096
) -> dict[tuple[int, int], float]:
    """The union of each left row's top k and each right row's top k, as {(i, j): score}."""
    return FieldProblem(left, right, k=k).mutual_topk(block_size)
