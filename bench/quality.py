"""Quality of the matcher on the labelled evaluation set (bench/eval/*.jsonl).

Every profile is a query; its candidates are the other country's profiles that share a
field; the known good partners are graded 2 or 1. Reports P@k, R@k, nDCG@k and MRR for
the tuned matcher and for a plain `TfidfVectorizer()` baseline, overall, on
cross-language pairs only, and on each half of the set (to see that the defaults are not
tuned to one half).

Run: .venv/bin/python bench/quality.py [--grid]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from matcher import ProfileDoc, TfidfMatcher
from matcher.evaluate import evaluate

EVAL = Path(__file__).resolve().parent / "eval"

Ranker = Callable[[Sequence[ProfileDoc]], dict[int, list[int]]]


def load(
    parts: Sequence[str] = ("part_a", "part_b"),
) -> tuple[list[ProfileDoc], dict[int, dict[int, int]], dict[int, str]]:
    docs: list[ProfileDoc] = []
    relevance: dict[int, dict[int, int]] = {}
    languages: dict[int, str] = {}
    for part in parts:
        for line in (EVAL / f"{part}.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            docs.append(
                ProfileDoc(
                    id=row["id"],
                    country=row["country"],
                    kind=row["kind"],
                    fields=tuple(row["fields"]),
                    texts=tuple(row["texts"]) if "texts" in row else (row["text"],),
                    lang=row["lang"],
                )
            )
            relevance[row["id"]] = {int(k): v for k, v in row["relevant"].items()}
            languages[row["id"]] = row["lang"]
    return docs, relevance, languages


def candidates_of(doc: ProfileDoc, docs: Sequence[ProfileDoc]) -> list[ProfileDoc]:
    return [d for d in docs if d.country != doc.country and set(d.fields) & set(doc.fields)]


def matcher_ranker(**params: Any) -> Ranker:
    def rank(docs: Sequence[ProfileDoc]) -> dict[int, list[int]]:
        matcher = TfidfMatcher(**params).fit(docs)
        if matcher.aggregation != "concat":
            return {
                doc.id: [cid for cid, _, _ in matcher.score_against(doc, candidates_of(doc, docs))]
                for doc in docs
            }
        # Same scores as score_against, with every text analysed once.
        matrix = matcher.transform(docs)
        return _rank_by_matrix(docs, matrix)

    return rank


def _rank_by_matrix(docs: Sequence[ProfileDoc], matrix: Any) -> dict[int, list[int]]:
    position = {d.id: n for n, d in enumerate(docs)}
    rankings = {}
    for doc in docs:
        candidates = candidates_of(doc, docs)
        rows = [position[c.id] for c in candidates]
        scores = (matrix[rows] @ matrix[position[doc.id]].T).toarray().ravel()
        ids = np.array([c.id for c in candidates])
        order = np.lexsort((ids, -scores))
        rankings[doc.id] = [int(ids[i]) for i in order if scores[i] > 0]
    return rankings


def baseline_ranker(docs: Sequence[ProfileDoc]) -> dict[int, list[int]]:
    """What a user would write first: TfidfVectorizer() with its defaults, cosine."""
    matrix = TfidfVectorizer().fit_transform([" ".join(d.texts) for d in docs])
    return _rank_by_matrix(docs, matrix)


def cross_language(
    relevance: dict[int, dict[int, int]], languages: dict[int, str]
) -> dict[int, dict[int, int]]:
    return {
        q: {c: g for c, g in rel.items() if languages[c] != languages[q]}
        for q, rel in relevance.items()
    }


def report(
    name: str, ranker: Ranker, parts: Sequence[str] = ("part_a", "part_b")
) -> dict[str, dict[str, float]]:
    docs, relevance, languages = load(parts)
    rankings = ranker(docs)
    return {
        "all": evaluate(rankings, relevance),
        "cross-language": evaluate(rankings, cross_language(relevance, languages)),
    }


def _line(name: str, metrics: dict[str, float]) -> str:
    keys = ("P@1", "P@5", "R@5", "R@10", "MRR", "nDCG@10")
    return (
        f"{name:38s} "
        + " ".join(f"{k}={metrics[k]:.3f}" for k in keys)
        + f" (n={int(metrics['queries'])})"
    )


GRID = {
    "tf": ["sublinear", "bm25", "raw"],
    "stem": [True, False],
    "ngram_max": [1, 2],
    "use_glossary": [True, False],
    "concept_weight": [1.0, 2.0],
    "max_df": [1.0, 0.5, 0.2],
}


def grid(parts: Sequence[str]) -> list[tuple[float, dict[str, Any]]]:
    results = []
    keys = list(GRID)
    for values in itertools.product(*(GRID[k] for k in keys)):
        params = dict(zip(keys, values, strict=True))
        if not params["use_glossary"] and params["concept_weight"] != 1.0:
            continue
        metrics = report("", matcher_ranker(**params), parts)["all"]
        results.append((metrics["nDCG@10"], params))
    return sorted(results, key=lambda r: -r[0])


def split_into_texts(docs: Sequence[ProfileDoc]) -> list[ProfileDoc]:
    """The same profiles, each sentence a separate text (as publications or products)."""
    split = []
    for doc in docs:
        sentences = [s for s in re.split(r"(?<=[.!?。])\s*", " ".join(doc.texts)) if s.strip()]
        split.append(dataclasses.replace(doc, texts=tuple(sentences) or doc.texts))
    return split


def aggregation_report() -> None:
    print("== several texts per profile (each sentence a text), whole set")
    for aggregation in ("concat", "max", "mean_top"):
        ranker = matcher_ranker(aggregation=aggregation)
        result = report(aggregation, lambda docs, r=ranker: r(split_into_texts(docs)))
        print(_line(f"aggregation={aggregation}", result["all"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grid", action="store_true", help="search parameters on each half")
    parser.add_argument("--aggregation", action="store_true", help="compare text aggregations")
    args = parser.parse_args()
    if args.aggregation:
        aggregation_report()
        return
    if args.grid:
        for train, test in (("part_a", "part_b"), ("part_b", "part_a")):
            ranked = grid([train])
            print(f"best on {train} (nDCG@10):")
            for score, params in ranked[:5]:
                held_out = report("", matcher_ranker(**params), [test])["all"]["nDCG@10"]
                print(f"  {score:.3f}  held-out {test} {held_out:.3f}  {params}")
        return
    for label, parts in (
        ("whole set", ("part_a", "part_b")),
        ("half A", ("part_a",)),
        ("half B", ("part_b",)),
    ):
        print(f"== {label}")
        for name, ranker in (
            ("plain TfidfVectorizer() baseline", baseline_ranker),
            ("tuned matcher (defaults)", matcher_ranker()),
        ):
            result = report(name, ranker, parts)
            print(_line(name, result["all"]))
            print(_line("  cross-language pairs only", result["cross-language"]))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
