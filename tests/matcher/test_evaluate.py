from __future__ import annotations

import pytest

from matcher.evaluate import evaluate, ndcg_at, precision_at, recall_at, reciprocal_rank


def test_metrics_on_a_hand_computed_ranking() -> None:
    ranked = [5, 1, 7, 2]
    relevant = {1: 2, 2: 1, 9: 1}
    assert precision_at(ranked, relevant, 2) == 0.5
    assert recall_at(ranked, relevant, 4) == pytest.approx(2 / 3)
    assert reciprocal_rank(ranked, relevant) == 0.5
    # DCG = 3/log2(3) + 1/log2(5); ideal = 3/log2(2) + 1/log2(3) + 1/log2(4)
    expected = (3 / 1.5849625 + 1 / 2.3219281) / (3 + 1 / 1.5849625 + 1 / 2)
    assert ndcg_at(ranked, relevant, 4) == pytest.approx(expected, rel=1e-6)


def test_a_perfect_ranking_scores_one() -> None:
    result = evaluate({1: [10, 11]}, {1: {10: 2, 11: 1}}, ks=(2,))
    assert result["P@2"] == 1.0 and result["R@2"] == 1.0
    assert result["MRR"] == 1.0 and result["nDCG@2"] == 1.0


def test_queries_without_relevant_partners_are_not_counted() -> None:
    result = evaluate({1: [10], 2: [20]}, {1: {10: 1}, 2: {}}, ks=(1,))
    assert result["queries"] == 1.0


def test_evaluate_refuses_a_set_without_any_relevant_pair() -> None:
    with pytest.raises(ValueError, match="relevant"):
        evaluate({}, {1: {}})
