from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.topk import FieldProblem, mutual_topk


def brute_force(left: sp.csr_matrix, right: sp.csr_matrix, k: int) -> dict[tuple[int, int], float]:
    dense = (left @ right.T).toarray()
    pairs: dict[tuple[int, int], float] = {}
    for i, row in enumerate(dense):
        for j in [j for j in np.lexsort((np.arange(row.size), -row)) if row[j] > 0][:k]:
            pairs[(i, int(j))] = float(row[j])
    for j, column in enumerate(dense.T):
        for i in [i for i in np.lexsort((np.arange(column.size), -column)) if column[i] > 0][:k]:
            pairs[(int(i), j)] = float(column[i])
    return pairs


@st.composite
def problems(draw: st.DrawFn) -> tuple[sp.csr_matrix, sp.csr_matrix, int, int]:
    seed = draw(st.integers(0, 2**32 - 1))
    n_left, n_right = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    n_terms = draw(st.integers(1, 30))
    density = draw(st.floats(0.02, 0.6))
    rng = np.random.default_rng(seed)
    left = sp.random(n_left, n_terms, density=density, random_state=rng, format="csr")
    right = sp.random(n_right, n_terms, density=density, random_state=rng, format="csr")
    # Quantised weights make exact ties common, which is where ordering bugs hide.
    left.data = np.round(left.data * 4) / 4 + 0.25
    right.data = np.round(right.data * 4) / 4 + 0.25
    return left, right, draw(st.integers(1, 6)), draw(st.integers(1, 16))


@settings(max_examples=150, deadline=None)
@given(problems())
def test_blocked_mutual_topk_equals_brute_force(
    problem: tuple[sp.csr_matrix, sp.csr_matrix, int, int],
) -> None:
    left, right, k, block_size = problem
    got = mutual_topk(left, right, k, block_size=block_size)
    expected = brute_force(left, right, k)
    assert set(got) == set(expected)
    for pair, score in got.items():
        assert abs(score - expected[pair]) < 1e-5


def test_blocks_can_be_scored_apart_and_combined() -> None:
    rng = np.random.default_rng(3)
    left = sp.random(50, 40, density=0.2, random_state=rng, format="csr")
    right = sp.random(30, 40, density=0.2, random_state=rng, format="csr")
    problem = FieldProblem(left, right, k=3)
    # As separate workers would: each block on its own, in any order.
    results = [problem.block(a, b, n_threads=1) for a, b in reversed(problem.blocks(7))]
    assert problem.combine(results).as_dict() == problem.mutual_topk(block_size=50)


def test_pair_weights_and_exclusions_apply_inside_the_search() -> None:
    left = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0]]))
    right = sp.csr_matrix(np.array([[1.0, 0.0], [0.9, 0.1]]))
    problem = FieldProblem(left, right, k=1, excluded=np.array([0 * 2 + 0]))
    result = problem.mutual_topk()
    assert (0, 0) not in result
    assert (0, 1) in result
