"""Balanced introductions: the best set of pairs under per-profile capacities, solved exactly.

The problem is a maximum-weight bipartite *b-matching*: candidate pairs e = (i, j, s_e)
join Japanese node i and Canadian node j; choose x_e in {0, 1} to

    maximise  sum_e s_e x_e   subject to   sum_{e at v} x_e <= cap_v  for every node v.

Why solving the linear programme is exact: the constraint matrix is the node-pair incidence
matrix of a bipartite graph (every column has one 1 in a Japanese row and one 1 in a
Canadian row), which is totally unimodular; appending the identity rows of the bounds
0 <= x_e <= 1 keeps it so. With integer capacities every vertex of the feasible polytope is
therefore integral, and an optimal *vertex* of the LP relaxation is an optimal 0/1 choice.
HiGHS returns a basic (vertex) solution: its simplex does by construction and its interior
point method is followed by crossover. We still check integrality (to 1e-6) and, should a
solver ever hand back a fractional optimum (possible only on a face of tied optima), solve
the same problem as a MILP with a zero optimality gap instead.

Also here: :func:`gini` and :func:`exposure`, to compare how evenly proposals are spread
over profiles before and after the balancing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

INTEGRALITY_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Exposure:
    """How many proposals each profile gets: spread over a population of profiles."""

    profiles: int
    minimum: int
    maximum: int
    mean: float
    gini: float


@dataclass(frozen=True)
class Assignment:
    """The chosen candidates (indices into the input, best first) and the spread of
    proposals before (every candidate) and after (the chosen ones)."""

    chosen: tuple[int, ...]
    total_score: float
    candidate_score: float
    before: Exposure
    after: Exposure


def gini(values: ArrayLike) -> float:
    """The Gini coefficient of non-negative ``values``: 0 when all are equal, (n-1)/n when
    one holds everything; 0 for an empty or all-zero population."""
    x = np.sort(np.asarray(values, dtype=float).ravel())
    n = x.size
    if n == 0:
        return 0.0
    if not np.all(np.isfinite(x)) or x[0] < 0:
        raise ValueError("gini needs finite, non-negative values")
    total = float(x.sum())
    if total == 0.0:
        return 0.0
    # Sorted-values form of the mean absolute difference / (2 * mean).
    ranks = np.arange(1, n + 1, dtype=float)
    value = 2.0 * float(np.dot(ranks, x)) / (n * total) - (n + 1) / n
    return min(1.0, max(0.0, value))


def exposure(counts: ArrayLike) -> Exposure:
    """Minimum, maximum, mean and Gini of per-profile proposal ``counts`` (zeros included)."""
    x = np.asarray(counts, dtype=np.int64).ravel()
    if x.size == 0:
        return Exposure(profiles=0, minimum=0, maximum=0, mean=0.0, gini=0.0)
    return Exposure(
        profiles=int(x.size),
        minimum=int(x.min()),
        maximum=int(x.max()),
        mean=float(x.mean()),
        gini=gini(x),
    )


def _as_arrays(
    jp: ArrayLike,
    ca: ArrayLike,
    scores: ArrayLike,
    jp_capacity: ArrayLike,
    ca_capacity: ArrayLike,
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64], NDArray[np.int64]]:
    """Checked inputs as (node of each candidate's Japanese side, node of its Canadian side,
    scores, capacities): Japanese nodes are 0..n_jp-1 and Canadian nodes follow them."""
    jp_index = np.asarray(jp, dtype=np.intp).ravel()
    ca_index = np.asarray(ca, dtype=np.intp).ravel()
    score = np.asarray(scores, dtype=np.float64).ravel()
    jp_cap = np.asarray(jp_capacity, dtype=np.int64).ravel()
    ca_cap = np.asarray(ca_capacity, dtype=np.int64).ravel()
    if not jp_index.size == ca_index.size == score.size:
        raise ValueError("jp, ca and scores must have the same length")
    if not np.all(np.isfinite(score)):
        raise ValueError("scores must be finite")
    if np.any(jp_cap < 0) or np.any(ca_cap < 0):
        raise ValueError("capacities must be non-negative")
    if jp_index.size and (
        jp_index.min() < 0
        or ca_index.min() < 0
        or jp_index.max() >= jp_cap.size
        or ca_index.max() >= ca_cap.size
    ):
        raise ValueError("a node index has no capacity")
    return jp_index, jp_cap.size + ca_index, score, np.concatenate([jp_cap, ca_cap])


def max_weight_b_matching(
    jp: ArrayLike,
    ca: ArrayLike,
    scores: ArrayLike,
    jp_capacity: ArrayLike,
    ca_capacity: ArrayLike,
) -> NDArray[np.intp]:
    """Indices of the candidates (jp[e], ca[e], scores[e]) of greatest total score such that
    no Japanese node i is in more than jp_capacity[i] of them and no Canadian node j in more
    than ca_capacity[j]; best first (score desc, then jp, then ca). Exact (see the module).

    Candidates with a score <= 0 add nothing and are never chosen. Repeated (jp, ca) pairs
    are treated as distinct candidates: give each pair once.
    """
    jp_node, ca_node, score, capacity = _as_arrays(jp, ca, scores, jp_capacity, ca_capacity)
    usable = np.flatnonzero((score > 0) & (capacity[jp_node] > 0) & (capacity[ca_node] > 0)).astype(
        np.intp
    )
    if usable.size == 0:
        return np.empty(0, dtype=np.intp)
    k = usable.size
    rows = np.concatenate([jp_node[usable], ca_node[usable]])
    columns = np.concatenate([np.arange(k), np.arange(k)])
    incidence = sparse.csr_array(
        (np.ones(2 * k), (rows, columns)), shape=(capacity.size, k), dtype=float
    )
    weights = score[usable]
    result = linprog(
        -weights,
        A_ub=incidence,
        b_ub=capacity.astype(float),
        bounds=(0.0, 1.0),
        method="highs",
    )
    if result.status != 0 or result.x is None:
        raise RuntimeError(f"the assignment LP failed: {result.message}")
    x = np.asarray(result.x, dtype=float)
    if np.any(np.abs(x - np.round(x)) > INTEGRALITY_TOLERANCE):
        x = _solve_milp(incidence, capacity, weights)
    picked = usable[np.round(x) == 1]
    used = np.bincount(np.concatenate([jp_node[picked], ca_node[picked]]), minlength=capacity.size)
    if np.any(used > capacity):  # cannot happen with a correct solver: refuse rather than lie
        raise RuntimeError("the assignment exceeds a capacity")
    order = np.lexsort((ca_node[picked], jp_node[picked], -score[picked]))
    chosen: NDArray[np.intp] = picked[order].astype(np.intp)
    return chosen


def _solve_milp(
    incidence: sparse.csr_array, capacity: NDArray[np.int64], weights: NDArray[np.float64]
) -> NDArray[np.float64]:
    result = milp(
        -weights,
        constraints=LinearConstraint(incidence, -np.inf, capacity.astype(float)),
        bounds=Bounds(0.0, 1.0),
        integrality=np.ones(weights.size),
        options={"mip_rel_gap": 0.0},
    )
    if result.status != 0 or result.x is None:
        raise RuntimeError(f"the assignment MILP failed: {result.message}")
    return np.asarray(result.x, dtype=float)


def degrees(
    jp: ArrayLike, ca: ArrayLike, n_jp: int, n_ca: int, chosen: Sequence[int] | None = None
) -> NDArray[np.int64]:
    """Proposals per node (Japanese nodes first, then Canadian) among the ``chosen``
    candidates, or among all of them when ``chosen`` is None."""
    jp_index = np.asarray(jp, dtype=np.intp).ravel()
    ca_index = np.asarray(ca, dtype=np.intp).ravel()
    if chosen is not None:
        selected = np.asarray(chosen, dtype=np.intp)
        jp_index, ca_index = jp_index[selected], ca_index[selected]
    counts = np.concatenate(
        [np.bincount(jp_index, minlength=n_jp), np.bincount(ca_index, minlength=n_ca)]
    )
    return counts.astype(np.int64)


def balance(
    jp: ArrayLike,
    ca: ArrayLike,
    scores: ArrayLike,
    jp_capacity: ArrayLike,
    ca_capacity: ArrayLike,
) -> Assignment:
    """The exact best assignment under the capacities, with the exposure of every node
    (all nodes that have a capacity, zeros included) before and after."""
    score = np.asarray(scores, dtype=np.float64).ravel()
    n_jp = int(np.asarray(jp_capacity).size)
    n_ca = int(np.asarray(ca_capacity).size)
    chosen = max_weight_b_matching(jp, ca, score, jp_capacity, ca_capacity)
    return Assignment(
        chosen=tuple(int(e) for e in chosen),
        total_score=float(score[chosen].sum()),
        candidate_score=float(score.sum()),
        before=exposure(degrees(jp, ca, n_jp, n_ca)),
        after=exposure(degrees(jp, ca, n_jp, n_ca, [int(e) for e in chosen])),
    )
