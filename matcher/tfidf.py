"""The TF-IDF matcher: a scikit-learn style estimator over ProfileDoc."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer

from matcher.text import tokenize
from matcher.topk import mutual_topk
from matcher.types import CANADA, JAPAN, PairScore, ProfileDoc


class TfidfMatcher:
    """Ranks cross-border (JP x CA) pairs per MOC field by TF-IDF cosine similarity.

    Parameters are stored as given (scikit-learn convention); ``fit`` sets the
    attributes ending in ``_``.
    """

    def __init__(
        self,
        *,
        top_k: int = 20,
        n_terms: int = 5,
        sublinear_tf: bool = True,
        min_df: int = 1,
        max_df: float = 1.0,
        block_size: int = 1024,
    ) -> None:
        self.top_k = top_k
        self.n_terms = n_terms
        self.sublinear_tf = sublinear_tf
        self.min_df = min_df
        self.max_df = max_df
        self.block_size = block_size

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters, for recording with a run."""
        return {
            "top_k": self.top_k,
            "n_terms": self.n_terms,
            "sublinear_tf": self.sublinear_tf,
            "min_df": self.min_df,
            "max_df": self.max_df,
            "block_size": self.block_size,
        }

    def fit(self, docs: Sequence[ProfileDoc]) -> TfidfMatcher:
        """Learn the vocabulary and IDF weights from ``docs``."""
        if not docs:
            raise ValueError("cannot fit on an empty set of profiles")
        self.vectorizer_ = TfidfVectorizer(
            analyzer=tokenize,
            sublinear_tf=self.sublinear_tf,
            min_df=self.min_df,
            max_df=self.max_df,
        )
        self.vectorizer_.fit([doc.text for doc in docs])
        self.feature_names_: NDArray[np.str_] = self.vectorizer_.get_feature_names_out()
        self.vocabulary_size_ = len(self.feature_names_)
        return self

    def transform(self, docs: Sequence[ProfileDoc]) -> sp.csr_matrix:
        """L2-normalised TF-IDF rows, one per doc, in the fitted vocabulary."""
        matrix: sp.csr_matrix = self.vectorizer_.transform([doc.text for doc in docs]).tocsr()
        return matrix

    def match(self, docs: Sequence[ProfileDoc]) -> list[PairScore]:
        """All cross-border pairs per field among ``docs``: each side's top k, ranked.

        Output order: field, then score descending, then Japanese id, then Canadian id.
        """
        matrix = self.transform(docs)
        result: list[PairScore] = []
        for field in sorted({f for doc in docs for f in doc.fields}):
            jp = [i for i, d in enumerate(docs) if d.country == JAPAN and field in d.fields]
            ca = [i for i, d in enumerate(docs) if d.country == CANADA and field in d.fields]
            if not jp or not ca:
                continue
            jp_matrix, ca_matrix = matrix[jp], matrix[ca]
            scored = mutual_topk(jp_matrix, ca_matrix, self.top_k, self.block_size)
            by_ids = {
                (docs[jp[i]].id, docs[ca[j]].id): (score, jp_matrix[i], ca_matrix[j])
                for (i, j), score in scored.items()
            }
            result.extend(self._ranked(field, by_ids))
        return result

    def score_against(
        self, doc: ProfileDoc, candidates: Sequence[ProfileDoc]
    ) -> list[tuple[int, float, tuple[str, ...]]]:
        """Score one doc against candidates: (candidate id, score, terms), best first.

        Candidates scoring zero are left out.
        """
        if not candidates:
            return []
        row = self.transform([doc])
        others = self.transform(candidates)
        scores = np.asarray((others @ row.T).toarray()).ravel()
        ids = np.array([c.id for c in candidates])
        order = np.lexsort((ids, -scores))
        return [
            (int(ids[i]), float(scores[i]), self.explain(row, others[int(i)]))
            for i in order
            if scores[i] > 0
        ]

    def explain(self, left: sp.csr_matrix, right: sp.csr_matrix) -> tuple[str, ...]:
        """The terms whose weight product adds most to the cosine of two rows."""
        left_idx, right_idx = left.indices, right.indices
        common, li, ri = np.intersect1d(left_idx, right_idx, return_indices=True)
        if common.size == 0:
            return ()
        contribution = left.data[li] * right.data[ri]
        order = np.lexsort((common, -contribution))[: self.n_terms]
        return tuple(str(self.feature_names_[common[i]]) for i in order)

    def _ranked(
        self,
        field: str,
        pairs: dict[tuple[int, int], tuple[float, sp.csr_matrix, sp.csr_matrix]],
    ) -> list[PairScore]:
        ranks = rank_pairs({ids: score for ids, (score, _, _) in pairs.items()})
        ordered = sorted(pairs.items(), key=lambda item: (-item[1][0], item[0]))
        return [
            PairScore(
                field=field,
                jp_id=jp_id,
                ca_id=ca_id,
                score=round(score, 6),
                rank_jp=ranks[(jp_id, ca_id)][0],
                rank_ca=ranks[(jp_id, ca_id)][1],
                terms=self.explain(jp_row, ca_row),
            )
            for (jp_id, ca_id), (score, jp_row, ca_row) in ordered
        ]


def rank_pairs(scores: dict[tuple[int, int], float]) -> dict[tuple[int, int], tuple[int, int]]:
    """Rank each (jp, ca) pair from both sides: 1 is that side's best partner.

    Ties are broken by the partner's id, so ranks are deterministic.
    """
    by_jp: dict[int, list[tuple[float, int]]] = defaultdict(list)
    by_ca: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for (jp_id, ca_id), score in scores.items():
        by_jp[jp_id].append((-score, ca_id))
        by_ca[ca_id].append((-score, jp_id))
    rank_jp: dict[tuple[int, int], int] = {}
    rank_ca: dict[tuple[int, int], int] = {}
    for jp_id, partners in by_jp.items():
        for rank, (_, ca_id) in enumerate(sorted(partners), start=1):
            rank_jp[(jp_id, ca_id)] = rank
    for ca_id, partners in by_ca.items():
        for rank, (_, jp_id) in enumerate(sorted(partners), start=1):
            rank_ca[(jp_id, ca_id)] = rank
    return {pair: (rank_jp[pair], rank_ca[pair]) for pair in scores}
