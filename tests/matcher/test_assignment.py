"""Balanced introductions: exact b-matching checked against brute force, Gini, exposure."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.assignment import balance, degrees, exposure, gini, max_weight_b_matching

Case = tuple[list[int], list[int], list[float], list[int], list[int]]


def brute_force_best(case: Case) -> float:
    """The best total score over every subset of candidates that respects the capacities."""
    scores = case[2]
    best = 0.0
    for size in range(len(scores) + 1):
        for subset in itertools.combinations(range(len(scores)), size):
            if _fits(case, subset):
                best = max(best, sum(scores[e] for e in subset))
    return best


def _fits(case: Case, subset: tuple[int, ...] | list[int]) -> bool:
    jp, ca, _, jp_cap, ca_cap = case
    jp_used = np.bincount([jp[e] for e in subset], minlength=len(jp_cap))
    ca_used = np.bincount([ca[e] for e in subset], minlength=len(ca_cap))
    return bool(np.all(jp_used <= jp_cap) and np.all(ca_used <= ca_cap))


def random_case(rng: random.Random) -> Case:
    n_jp, n_ca = rng.randint(1, 4), rng.randint(1, 4)
    pairs = [(i, j) for i in range(n_jp) for j in range(n_ca)]
    chosen = rng.sample(pairs, k=min(len(pairs), rng.randint(1, 12)))
    # Few distinct values make ties, where a careless solver goes fractional.
    scores = [rng.choice([0.1, 0.25, 0.5, 0.5, 0.75, 1.0, rng.random()]) for _ in chosen]
    jp_cap = [rng.randint(0, 3) for _ in range(n_jp)]
    ca_cap = [rng.randint(0, 3) for _ in range(n_ca)]
    return [p[0] for p in chosen], [p[1] for p in chosen], scores, jp_cap, ca_cap


def _check_optimal(case: Case) -> None:
    jp, ca, scores, jp_cap, ca_cap = case
    chosen = [int(e) for e in max_weight_b_matching(jp, ca, scores, jp_cap, ca_cap)]
    assert len(set(chosen)) == len(chosen)
    assert _fits(case, chosen)
    assert sum(scores[e] for e in chosen) == pytest.approx(brute_force_best(case), abs=1e-9)


def test_max_weight_b_matching_is_optimal_on_seeded_random_cases() -> None:
    rng = random.Random(20230921)
    for _ in range(150):
        _check_optimal(random_case(rng))


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False))
def test_max_weight_b_matching_is_optimal_on_generated_cases(rng: random.Random) -> None:
    _check_optimal(random_case(rng))


def test_max_weight_b_matching_never_exceeds_capacities_on_a_large_case() -> None:
    rng = np.random.default_rng(7)
    n_jp, n_ca, m = 60, 50, 900
    jp = rng.integers(0, n_jp, m)
    ca = rng.integers(0, n_ca, m)
    keep = np.unique(jp * n_ca + ca, return_index=True)[1]
    jp, ca = jp[keep], ca[keep]
    scores = rng.random(jp.size)
    jp_cap, ca_cap = rng.integers(0, 4, n_jp), rng.integers(0, 4, n_ca)
    chosen = max_weight_b_matching(jp, ca, scores, jp_cap, ca_cap)
    used = degrees(jp, ca, n_jp, n_ca, list(chosen))
    assert np.all(used <= np.concatenate([jp_cap, ca_cap]))
    # Greedy by score is feasible, so the exact optimum is at least as good.
    greedy_total, jp_left, ca_left = 0.0, jp_cap.copy(), ca_cap.copy()
    for e in np.argsort(-scores):
        if jp_left[jp[e]] > 0 and ca_left[ca[e]] > 0:
            jp_left[jp[e]] -= 1
            ca_left[ca[e]] -= 1
            greedy_total += scores[e]
    assert scores[chosen].sum() >= greedy_total - 1e-9


def test_max_weight_b_matching_beats_greedy_where_greedy_is_wrong() -> None:
    # Greedy takes (0, 0) = 1.0 and is then stuck; the optimum takes the two 0.9s.
    chosen = max_weight_b_matching([0, 0, 1], [0, 1, 0], [1.0, 0.9, 0.9], [1, 1], [1, 1])
    assert sorted(int(e) for e in chosen) == [1, 2]


def test_max_weight_b_matching_returns_best_first_and_skips_worthless_pairs() -> None:
    chosen = max_weight_b_matching([0, 1, 2], [0, 1, 2], [0.2, 0.0, 0.7], [1, 1, 1], [1, 1, 1])
    assert [int(e) for e in chosen] == [2, 0]


def test_max_weight_b_matching_handles_no_candidates_and_zero_capacity() -> None:
    assert max_weight_b_matching([], [], [], [], []).size == 0
    assert max_weight_b_matching([0], [0], [0.5], [0], [1]).size == 0


@pytest.mark.parametrize(
    "case",
    [
        ([0], [0, 1], [0.5], [1], [1]),  # lengths differ
        ([0], [2], [0.5], [1], [1]),  # no capacity for node 2
        ([0], [0], [0.5], [-1], [1]),  # negative capacity
        ([0], [0], [float("nan")], [1], [1]),
    ],
)
def test_max_weight_b_matching_refuses_bad_input(case: Case) -> None:
    with pytest.raises(ValueError, match=r"."):
        max_weight_b_matching(*case)


def test_gini_of_equal_values_is_zero() -> None:
    assert gini([3, 3, 3, 3]) == pytest.approx(0.0)
    assert gini([0, 0, 0]) == 0.0
    assert gini([]) == 0.0


@pytest.mark.parametrize("n", [1, 2, 5, 10])
def test_gini_of_one_hot_is_n_minus_one_over_n(n: int) -> None:
    values = [0] * (n - 1) + [1]
    assert gini(values) == pytest.approx((n - 1) / n)


def test_gini_matches_the_mean_absolute_difference_definition() -> None:
    rng = np.random.default_rng(3)
    values = rng.integers(0, 10, 25)
    n = values.size
    expected = np.abs(values[:, None] - values[None, :]).sum() / (2 * n * n * values.mean())
    assert gini(values) == pytest.approx(expected)


def test_gini_refuses_negative_values() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        gini([1, -1])


def test_exposure_summarises_counts() -> None:
    spread = exposure([0, 2, 4])
    assert (spread.profiles, spread.minimum, spread.maximum) == (3, 0, 4)
    assert spread.mean == pytest.approx(2.0)
    assert spread.gini == pytest.approx(gini([0, 2, 4]))
    assert exposure([]).profiles == 0


def test_balance_spreads_proposals_more_evenly() -> None:
    # One Japanese profile with every Canadian one; capacities cap it at 2.
    jp = [0, 0, 0, 0, 1]
    ca = [0, 1, 2, 3, 0]
    scores = [0.9, 0.8, 0.7, 0.6, 0.5]
    result = balance(jp, ca, scores, [2, 2], [1, 1, 1, 1])
    assert result.before.maximum == 4
    assert result.after.maximum <= 2
    assert result.after.gini < result.before.gini
    assert result.total_score == pytest.approx(sum(scores[e] for e in result.chosen))
    assert result.candidate_score == pytest.approx(sum(scores))


def test_max_weight_b_matching_falls_back_to_milp_on_a_fractional_lp_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A tie: x = 1/2 everywhere is optimal for the LP but is not a vertex.
    class Fractional:
        status = 0
        message = "fractional on purpose"
        x = np.array([0.5, 0.5, 0.5, 0.5])

    monkeypatch.setattr("matcher.assignment.linprog", lambda *args, **kwargs: Fractional())
    case: Case = ([0, 0, 1, 1], [0, 1, 0, 1], [1.0, 1.0, 1.0, 1.0], [1, 1], [1, 1])
    _check_optimal(case)
