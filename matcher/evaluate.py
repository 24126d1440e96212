"""Ranking metrics for a labelled set: precision@k, recall@k, MRR and nDCG@k.

``rankings`` maps a query id to candidate ids best first; ``relevance`` maps a query id to
{candidate id: grade} with grades > 0 relevant (2 = excellent, 1 = good).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

Rankings = Mapping[int, Sequence[int]]
Relevance = Mapping[int, Mapping[int, int]]


def precision_at(ranked: Sequence[int], relevant: Mapping[int, int], k: int) -> float:
    """Share of the first k proposals that are relevant."""
    return sum(1 for c in ranked[:k] if relevant.get(c, 0) > 0) / k


def recall_at(ranked: Sequence[int], relevant: Mapping[int, int], k: int) -> float:
    """Share of the relevant candidates found in the first k proposals."""
    wanted = {c for c, grade in relevant.items() if grade > 0}
    if not wanted:
        return 0.0
    return len(wanted.intersection(ranked[:k])) / len(wanted)


def reciprocal_rank(ranked: Sequence[int], relevant: Mapping[int, int]) -> float:
    """1 / position of the first relevant proposal (0 when none is proposed)."""
    for position, candidate in enumerate(ranked, start=1):
        if relevant.get(candidate, 0) > 0:
            return 1.0 / position
    return 0.0


def ndcg_at(ranked: Sequence[int], relevant: Mapping[int, int], k: int) -> float:
    """Normalised discounted cumulative gain with gains 2^grade - 1."""

    def dcg(grades: Sequence[int]) -> float:
        return float(sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades)))

    ideal = dcg(sorted(relevant.values(), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return float(dcg([relevant.get(c, 0) for c in ranked[:k]]) / ideal)


def evaluate(
    rankings: Rankings, relevance: Relevance, ks: Sequence[int] = (1, 5, 10)
) -> dict[str, float]:
    """Mean of each metric over the queries that have at least one relevant candidate."""
    queries = [q for q, rel in relevance.items() if any(g > 0 for g in rel.values())]
    if not queries:
        raise ValueError("no query has a relevant candidate")
    totals: dict[str, float] = {}

    def add(name: str, value: float) -> None:
        totals[name] = totals.get(name, 0.0) + value

    for query in queries:
        ranked = list(rankings.get(query, ()))
        relevant = relevance[query]
        for k in ks:
            add(f"P@{k}", precision_at(ranked, relevant, k))
            add(f"R@{k}", recall_at(ranked, relevant, k))
            add(f"nDCG@{k}", ndcg_at(ranked, relevant, k))
        add("MRR", reciprocal_rank(ranked, relevant))
    return {name: total / len(queries) for name, total in sorted(totals.items())} | {
        "queries": float(len(queries))
    }
