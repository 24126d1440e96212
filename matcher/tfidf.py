"""The TF-IDF matcher: a scikit-learn style estimator over ProfileDoc.

``__init__`` stores parameters; ``fit`` learns the vocabulary and IDF weights (attributes
ending in ``_``); ``match`` ranks the cross-border pairs of every MOC field.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from matcher.glossary import CONCEPT_PREFIX, Glossary
from matcher.text import TextAnalyzer
from matcher.topk import KERNEL_LOCK, FieldProblem
from matcher.types import CANADA, JAPAN, PairScore, ProfileDoc

KINDS = ("researcher", "startup")
TF_SCHEMES = ("raw", "sublinear", "bm25")
AGGREGATIONS = ("concat", "max", "mean_top")


class TfidfMatcher:
    """Ranks cross-border (JP x CA) pairs per MOC field by TF-IDF cosine similarity.

    Parameters
    ----------
    top_k: partners kept per profile on each side.
    n_terms: explanation terms per pair.
    tf: "raw", "sublinear" (1 + log tf) or "bm25" (saturation with ``bm25_k1``, ``bm25_b``).
    min_df, max_df: drop terms in fewer than ``min_df`` documents or more than a
        ``max_df`` fraction of them.
    stop_words, stem, ngram_max: analyzer choices (see matcher.text).
    use_glossary, concept_weight: add trilingual concept tokens, scaled by the weight.
    aggregation: how several texts of one profile combine: "concat", "max" over text
        pairs, or "mean_top" (mean of the ``mean_top`` best text pairs).
    pair_weights: multiplier per pair of kinds, keys "startup-researcher",
        "researcher-researcher", "startup-startup" (missing keys weigh 1).
    exclusions: (Japanese id, Canadian id) pairs never proposed.
    block_size: left rows per block of the top-k search.
    """

    def __init__(
        self,
        *,
        top_k: int = 20,
        n_terms: int = 6,
        tf: str = "sublinear",
        bm25_k1: float = 1.2,
        bm25_b: float = 0.75,
        min_df: int = 1,
        max_df: float = 0.2,
        stop_words: bool = True,
        stem: bool = True,
        ngram_max: int = 1,
        use_glossary: bool = True,
        concept_weight: float = 2.0,
        aggregation: str = "concat",
        mean_top: int = 2,
        pair_weights: dict[str, float] | None = None,
        exclusions: Iterable[tuple[int, int]] = (),
        block_size: int = 16384,
        glossary: Glossary | None = None,
    ) -> None:
        self.top_k = top_k
        self.n_terms = n_terms
        self.tf = tf
        self.bm25_k1 = bm25_k1
        self.bm25_b = bm25_b
        self.min_df = min_df
        self.max_df = max_df
        self.stop_words = stop_words
        self.stem = stem
        self.ngram_max = ngram_max
        self.use_glossary = use_glossary
        self.concept_weight = concept_weight
        self.aggregation = aggregation
        self.mean_top = mean_top
        self.pair_weights = dict(pair_weights or {})
        self.exclusions = frozenset(exclusions)
        self.block_size = block_size
        self.glossary = glossary

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters that change scores, for recording with a run."""
        return {
            "top_k": self.top_k,
            "n_terms": self.n_terms,
            "tf": self.tf,
            "bm25_k1": self.bm25_k1,
            "bm25_b": self.bm25_b,
            "min_df": self.min_df,
            "max_df": self.max_df,
            "stop_words": self.stop_words,
            "stem": self.stem,
            "ngram_max": self.ngram_max,
            "use_glossary": self.use_glossary,
            "concept_weight": self.concept_weight,
            "aggregation": self.aggregation,
            "mean_top": self.mean_top,
            "pair_weights": dict(sorted(self.pair_weights.items())),
            "exclusions": len(self.exclusions),
        }

    def _check_params(self) -> None:
        if self.tf not in TF_SCHEMES:
            raise ValueError(f"tf must be one of {TF_SCHEMES}, got {self.tf!r}")
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {self.aggregation!r}")
        if self.top_k <= 0:
            raise ValueError("top_k must be positive")
        if not 0 < self.max_df <= 1:
            raise ValueError("max_df must be in (0, 1]")

    # -- fitting and vectorizing ------------------------------------------------------
    @property
    def analyzer(self) -> TextAnalyzer:
        analyzer = getattr(self, "_analyzer", None)
        if analyzer is None:
            analyzer = TextAnalyzer(
                stem=self.stem,
                stop_words=self.stop_words,
                glossary=self.glossary,
                use_glossary=self.use_glossary,
                ngram_max=self.ngram_max,
            )
            self._analyzer = analyzer
        return analyzer

    def _units(self, doc: ProfileDoc) -> list[list[str]]:
        """Token lists of the doc's texts (one list when texts are concatenated)."""
        lists = [self.analyzer.tokens(text, doc.lang) for text in doc.texts if text.strip()]
        if self.aggregation == "concat" or not lists:
            return [[token for tokens in lists for token in tokens]]
        return lists

    def fit(self, docs: Sequence[ProfileDoc]) -> TfidfMatcher:
        """Learn the vocabulary and IDF weights from ``docs``."""
        self.fit_transform(docs)
        return self

    def fit_transform(self, docs: Sequence[ProfileDoc]) -> sp.csr_matrix:
        """``fit`` then ``transform``, analysing each text once (in parallel when large)."""
        self._check_params()
        if not docs:
            raise ValueError("cannot fit on an empty set of profiles")
        if self.aggregation != "concat":
            units = [self._units(doc) for doc in docs]
            self._fit_units(units)
            return self._vectorize([[t for u in doc_units for t in u] for doc_units in units])
        counts = count_documents(self, docs)
        keep = self._fit_counts(counts)
        return self._weight(counts.matrix, counts.lengths, keep=keep)

    def _fit_counts(self, counts: Counts) -> NDArray[np.int64]:
        """Set the vocabulary from counted documents; returns the kept columns."""
        n_docs = counts.matrix.shape[0]
        df = np.bincount(counts.matrix.indices, minlength=len(counts.terms))
        keep_mask = df >= self.min_df
        if n_docs >= 10:
            keep_mask &= df <= self.max_df * n_docs
        terms = np.array(counts.terms, dtype=object)
        order = np.argsort(terms[keep_mask], kind="stable")
        keep = np.flatnonzero(keep_mask)[order]
        self._set_vocabulary([str(t) for t in terms[keep]], df[keep], n_docs, counts.lengths)
        return keep

    def _fit_units(self, units: list[list[list[str]]]) -> None:
        document_frequency: Counter[str] = Counter()
        lengths: list[int] = []
        for doc_units in units:
            document_frequency.update({t for tokens in doc_units for t in tokens})
            lengths.extend(len(tokens) for tokens in doc_units)
        n_docs = len(units)
        terms = sorted(
            term
            for term, count in document_frequency.items()
            if count >= self.min_df and (count <= self.max_df * n_docs or n_docs < 10)
        )
        df = np.array([document_frequency[t] for t in terms], dtype=np.int64)
        self._set_vocabulary(terms, df, n_docs, np.asarray(lengths, dtype=np.float64))

    def _set_vocabulary(
        self,
        terms: list[str],
        df: NDArray[np.int64],
        n_docs: int,
        lengths: NDArray[np.float64],
    ) -> None:
        self.vocabulary_: dict[str, int] = {term: i for i, term in enumerate(terms)}
        self.feature_names_ = np.array(terms, dtype=object)
        idf = np.log((1.0 + n_docs) / (1.0 + df.astype(np.float64))) + 1.0
        is_concept = np.array([t.startswith(CONCEPT_PREFIX) for t in terms], dtype=bool)
        if is_concept.size:
            idf[is_concept] *= self.concept_weight
        self.idf_: NDArray[np.float64] = idf
        self.average_length_ = float(np.mean(lengths)) if lengths.size else 0.0
        self.n_documents_ = n_docs
        self.vocabulary_size_ = len(terms)

    def _vectorize(self, token_lists: Sequence[list[str]]) -> sp.csr_matrix:
        """Weighted rows for token lists, in the fitted vocabulary."""
        vocabulary = self.vocabulary_
        indptr = [0]
        indices: list[int] = []
        counts: list[int] = []
        for tokens in token_lists:
            for term, count in Counter(tokens).items():
                column = vocabulary.get(term)
                if column is not None:
                    indices.append(column)
                    counts.append(count)
            indptr.append(len(indices))
        matrix = sp.csr_matrix(
            (np.asarray(counts, dtype=np.float64), np.asarray(indices, dtype=np.int64), indptr),
            shape=(len(token_lists), len(vocabulary)),
        )
        lengths = np.array([len(tokens) for tokens in token_lists], dtype=np.float64)
        return self._weight(matrix, lengths)

    def _weight(
        self,
        counts: sp.csr_matrix,
        lengths: NDArray[np.float64],
        *,
        keep: NDArray[np.int64] | None = None,
    ) -> sp.csr_matrix:
        """Term frequency scheme, IDF and L2 normalisation of a count matrix, keeping only
        the columns ``keep`` (in that order) when given. One compiled pass per row."""
        matrix: sp.csr_matrix = counts.tocsr()
        position = np.full(matrix.shape[1], -1, dtype=np.int64)
        if keep is None:
            position[:] = np.arange(matrix.shape[1])
            n_columns = matrix.shape[1]
        else:
            position[keep] = np.arange(keep.size)
            n_columns = keep.size
        scheme = TF_SCHEMES.index(self.tf)
        length_norm = np.ones(matrix.shape[0])
        if self.tf == "bm25":
            length_norm = self.bm25_k1 * (
                1 - self.bm25_b + self.bm25_b * lengths / max(self.average_length_, 1.0)
            )
        with KERNEL_LOCK:
            indptr, indices, data = _weigh_rows(
                matrix.indptr.astype(np.int64),
                matrix.indices.astype(np.int64),
                matrix.data.astype(np.float64),
                position,
                self.idf_,
                scheme,
                self.bm25_k1,
                length_norm,
            )
        return sp.csr_matrix((data, indices, indptr), shape=(matrix.shape[0], n_columns))

    def transform(self, docs: Sequence[ProfileDoc]) -> sp.csr_matrix:
        """L2-normalised TF-IDF rows, one per doc (texts concatenated)."""
        return self._vectorize(
            [
                [t for text in doc.texts for t in self.analyzer.tokens(text, doc.lang)]
                for doc in docs
            ]
        )

    # -- matching ---------------------------------------------------------------------
    def match(self, docs: Sequence[ProfileDoc]) -> list[PairScore]:
        """All cross-border pairs per field among ``docs``: each side's top k, ranked.

        Output order: field, then score descending, then Japanese id, then Canadian id.
        Unavailable profiles are left out.
        """
        docs = sorted((d for d in docs if d.available), key=lambda d: d.id)
        units = [self._units(doc) for doc in docs]
        owners = np.repeat(np.arange(len(docs)), [len(u) for u in units])
        matrix = self._vectorize([tokens for doc_units in units for tokens in doc_units])
        result: list[PairScore] = []
        for field in sorted({f for doc in docs for f in doc.fields}):
            jp = [i for i, d in enumerate(docs) if d.country == JAPAN and field in d.fields]
            ca = [i for i, d in enumerate(docs) if d.country == CANADA and field in d.fields]
            if not jp or not ca:
                continue
            if self.aggregation == "concat":
                problem = self.field_problem(docs, jp, ca, matrix)
                pairs = problem.combine(
                    [problem.block(a, b) for a, b in problem.blocks(self.block_size)]
                )
                jp_ids = np.array([docs[i].id for i in jp])[pairs.left]
                ca_ids = np.array([docs[j].id for j in ca])[pairs.right]
                by_ids = {
                    (a, b): s
                    for a, b, s in zip(
                        jp_ids.tolist(), ca_ids.tolist(), pairs.score.tolist(), strict=True
                    )
                }
            else:
                by_ids = self._aggregated_topk(docs, jp, ca, matrix, owners)
            result.extend(self._ranked(field, by_ids, docs))
        return result

    def _kind_codes(self, docs: Sequence[ProfileDoc], rows: Sequence[int]) -> NDArray[np.int8]:
        return np.array([1 if docs[i].kind == "startup" else 0 for i in rows], dtype=np.int8)

    def _weight_matrix(self) -> NDArray[np.float64]:
        weights = np.ones((2, 2))
        for key, value in self.pair_weights.items():
            kinds = sorted(key.split("-"))
            if len(kinds) != 2 or any(k not in KINDS for k in kinds):
                raise ValueError(f"unknown pair kind {key!r}")
            a, b = (KINDS.index(k) for k in kinds)
            weights[a, b] = weights[b, a] = value
        return weights

    def field_problem(
        self,
        docs: Sequence[ProfileDoc],
        jp: Sequence[int],
        ca: Sequence[int],
        matrix: sp.csr_matrix,
    ) -> FieldProblem:
        """The top-k search of one field: rows ``jp`` against rows ``ca`` of ``matrix``
        (positions in ``docs``), with pair-kind weights and exclusions."""
        excluded = None
        if self.exclusions:
            jp_position = {docs[i].id: n for n, i in enumerate(jp)}
            ca_position = {docs[j].id: n for n, j in enumerate(ca)}
            keys = [
                jp_position[a] * len(ca) + ca_position[b]
                for a, b in self.exclusions
                if a in jp_position and b in ca_position
            ]
            excluded = np.array(keys, dtype=np.int64)
        return FieldProblem(
            matrix[list(jp)],
            matrix[list(ca)],
            k=self.top_k,
            left_kind=self._kind_codes(docs, jp),
            right_kind=self._kind_codes(docs, ca),
            weights=self._weight_matrix(),
            excluded=excluded,
        )

    def _aggregated_topk(
        self,
        docs: Sequence[ProfileDoc],
        jp: Sequence[int],
        ca: Sequence[int],
        matrix: sp.csr_matrix,
        owners: NDArray[np.int64],
    ) -> dict[tuple[int, int], float]:
        """Doc-level scores from text-level cosines (max or mean of the best few)."""
        jp_rows = np.flatnonzero(np.isin(owners, jp))
        ca_rows = np.flatnonzero(np.isin(owners, ca))
        products = (matrix[jp_rows] @ matrix[ca_rows].T).tocoo()
        pair_scores: dict[tuple[int, int], list[float]] = defaultdict(list)
        for r, c, s in zip(
            products.row.tolist(), products.col.tolist(), products.data.tolist(), strict=True
        ):
            pair_scores[(int(owners[jp_rows[r]]), int(owners[ca_rows[c]]))].append(s)
        weights = self._weight_matrix()
        scores: dict[tuple[int, int], float] = {}
        for (a, b), values in pair_scores.items():
            if self.aggregation == "max":
                score = max(values)
            else:
                best = sorted(values, reverse=True)[: self.mean_top]
                score = sum(best) / len(best)
            kind_a = 1 if docs[a].kind == "startup" else 0
            kind_b = 1 if docs[b].kind == "startup" else 0
            ids = (docs[a].id, docs[b].id)
            if score > 0 and ids not in self.exclusions:
                scores[ids] = score * weights[kind_a, kind_b]
        return _mutual_topk_of_scores(scores, self.top_k)

    def _ranked(
        self, field: str, scores: dict[tuple[int, int], float], docs: Sequence[ProfileDoc]
    ) -> list[PairScore]:
        ranks = rank_pairs(scores)
        by_id = {d.id: d for d in docs}
        ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        explained = self.explain_many(
            [(by_id[jp_id], by_id[ca_id]) for (jp_id, ca_id), _ in ordered]
        )
        return [
            PairScore(
                field=field,
                jp_id=jp_id,
                ca_id=ca_id,
                score=round(score, 6),
                rank_jp=ranks[(jp_id, ca_id)][0],
                rank_ca=ranks[(jp_id, ca_id)][1],
                terms=terms,
            )
            for ((jp_id, ca_id), score), terms in zip(ordered, explained, strict=True)
        ]

    def score_against(
        self, doc: ProfileDoc, candidates: Sequence[ProfileDoc]
    ) -> list[tuple[int, float, tuple[tuple[str, str], ...]]]:
        """Score one doc against candidates with the fitted vocabulary.

        Returns (candidate id, score, explanation) best first; zero scores left out.
        Pair-kind weights and exclusions apply (with ``doc`` on its own side).
        """
        if not candidates:
            return []
        scores = self._similarities(doc, candidates)
        weights = self._weight_matrix()
        own_kind = 1 if doc.kind == "startup" else 0
        for n, other in enumerate(candidates):
            scores[n] *= weights[own_kind, 1 if other.kind == "startup" else 0]
            pair = (doc.id, other.id) if doc.country == JAPAN else (other.id, doc.id)
            if pair in self.exclusions or not other.available:
                scores[n] = 0.0
        ids = np.array([c.id for c in candidates])
        order = [int(i) for i in np.lexsort((ids, -scores)) if scores[i] > 0]
        explained = self.explain_many([(doc, candidates[i]) for i in order])
        return [
            (int(ids[i]), float(scores[i]), terms)
            for i, terms in zip(order, explained, strict=True)
        ]

    def _similarities(
        self, doc: ProfileDoc, candidates: Sequence[ProfileDoc]
    ) -> NDArray[np.float64]:
        """Cosine of ``doc`` with each candidate, texts combined by ``aggregation``."""
        if self.aggregation == "concat":
            row = self.transform([doc])
            others = self.transform(candidates)
            return np.asarray((others @ row.T).toarray()).ravel()
        own = self._vectorize(self._units(doc))
        candidate_units = [self._units(c) for c in candidates]
        owners = np.repeat(np.arange(len(candidates)), [len(u) for u in candidate_units])
        others = self._vectorize([t for units in candidate_units for t in units])
        text_scores = np.asarray((others @ own.T).toarray())  # candidate texts x own texts
        scores = np.zeros(len(candidates))
        for n in range(len(candidates)):
            values = np.sort(text_scores[owners == n].ravel())[::-1]
            if values.size == 0:
                continue
            scores[n] = values[0] if self.aggregation == "max" else values[: self.mean_top].mean()
        return scores

    def build_index(self, docs: Sequence[ProfileDoc]) -> CandidateIndex:
        """One side's profiles, vectorised once, for fast single-profile scoring."""
        matrix = self.transform(docs).tocsc()
        fields = sorted({f for d in docs for f in d.fields})
        return CandidateIndex(
            ids=np.array([d.id for d in docs], dtype=np.int64),
            matrix=matrix,
            field_masks={f: np.array([f in d.fields for d in docs]) for f in fields},
        )

    def top_partners(
        self, doc: ProfileDoc, index: CandidateIndex
    ) -> dict[str, list[tuple[int, float]]]:
        """The top k candidates of ``index`` for ``doc`` in each of its fields, best first.

        Touches only the index columns of the profile's own terms: the cost is the sum
        of those terms' document frequencies, not the size of the other side.
        """
        row = self.transform([doc])
        if row.nnz == 0:
            return {field: [] for field in doc.fields}
        scores = np.asarray(index.matrix[:, row.indices] @ row.data).ravel()
        result: dict[str, list[tuple[int, float]]] = {}
        for field in doc.fields:
            mask = index.field_masks.get(field)
            if mask is None:
                result[field] = []
                continue
            candidates = np.flatnonzero(mask & (scores > 0))
            if candidates.size > self.top_k:
                kth = np.partition(-scores[candidates], self.top_k - 1)[self.top_k - 1]
                candidates = candidates[-scores[candidates] <= kth]
            order = np.lexsort((index.ids[candidates], -scores[candidates]))[: self.top_k]
            result[field] = [
                (int(index.ids[candidates[i]]), float(scores[candidates[i]])) for i in order
            ]
        return result

    # -- explanations -----------------------------------------------------------------
    def explain_many(
        self, pairs: Sequence[tuple[ProfileDoc, ProfileDoc]]
    ) -> list[tuple[tuple[str, str], ...]]:
        """For each pair, its top terms as (left surface form, right surface form)."""
        if not pairs:
            return []
        unique = {d.id: d for pair in pairs for d in pair}
        docs = list(unique.values())
        matrix = self.transform(docs)
        position = {d.id: n for n, d in enumerate(docs)}
        surfaces: dict[int, dict[str, str]] = {}

        def surface_of(doc: ProfileDoc) -> dict[str, str]:
            if doc.id not in surfaces:
                forms: dict[str, str] = {}
                for text in doc.texts:
                    for term, form in self.analyzer.surface_forms(text, doc.lang).items():
                        forms.setdefault(term, form)
                surfaces[doc.id] = forms
            return surfaces[doc.id]

        explained: list[tuple[tuple[str, str], ...]] = []
        for left, right in pairs:
            terms = self._top_terms(matrix[position[left.id]], matrix[position[right.id]])
            left_forms, right_forms = surface_of(left), surface_of(right)
            explained.append(
                tuple(
                    (
                        left_forms.get(term, self._readable(term)),
                        right_forms.get(term, self._readable(term)),
                    )
                    for term in terms
                )
            )
        return explained

    def _top_terms(self, left: sp.csr_matrix, right: sp.csr_matrix) -> list[str]:
        common, li, ri = np.intersect1d(left.indices, right.indices, return_indices=True)
        if common.size == 0:
            return []
        contribution = left.data[li] * right.data[ri]
        order = np.lexsort((common, -contribution))
        chosen: list[str] = []
        covered: set[str] = set()
        for i in order:
            term = str(self.feature_names_[common[i]])
            # A concept and the words it is made of say the same thing once.
            key = term.removeprefix(CONCEPT_PREFIX)
            if key in covered:
                continue
            covered.add(key)
            chosen.append(term)
            if len(chosen) == self.n_terms:
                break
        return chosen

    def _readable(self, term: str) -> str:
        concept = self.analyzer.glossary.by_token(term) if self.analyzer.glossary else None
        return concept.label("en") if concept else term.removeprefix(CONCEPT_PREFIX)


@numba.njit(cache=True)
def _count_rows(
    ids: NDArray[np.int64], lengths: NDArray[np.int64], n_terms: int
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.float64]]:
    """CSR counts from each document's term ids, in linear time (a last-seen marker per
    term instead of sorting)."""
    n_docs = lengths.shape[0]
    last_row = np.full(n_terms, -1, dtype=np.int64)
    slot = np.empty(n_terms, dtype=np.int64)
    indptr = np.zeros(n_docs + 1, dtype=np.int64)
    indices = np.empty(ids.shape[0], dtype=np.int32)
    counts = np.empty(ids.shape[0], dtype=np.float64)
    p = 0
    n = 0
    for row in range(n_docs):
        for _ in range(lengths[row]):
            term = ids[p]
            p += 1
            if last_row[term] != row:
                last_row[term] = row
                slot[term] = n
                indices[n] = term
                counts[n] = 1.0
                n += 1
            else:
                counts[slot[term]] += 1.0
        indptr[row + 1] = n
    return indptr, indices[:n].copy(), counts[:n].copy()


@numba.njit(cache=True, parallel=True)
def _weigh_rows(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    counts: NDArray[np.float64],
    position: NDArray[np.int64],
    idf: NDArray[np.float64],
    scheme: int,
    k1: float,
    length_norm: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.float64]]:
    """Keep mapped columns, weight (raw, sublinear or BM25 tf times IDF), L2-normalise."""
    n_rows = indptr.shape[0] - 1
    kept = np.zeros(n_rows + 1, dtype=np.int64)
    for row in numba.prange(n_rows):
        n = 0
        for p in range(indptr[row], indptr[row + 1]):
            if position[indices[p]] >= 0:
                n += 1
        kept[row + 1] = n
    out_indptr = np.cumsum(kept)
    out_indices = np.empty(out_indptr[-1], dtype=np.int32)
    out_data = np.empty(out_indptr[-1], dtype=np.float64)
    for row in numba.prange(n_rows):
        q = out_indptr[row]
        total = 0.0
        for p in range(indptr[row], indptr[row + 1]):
            column = position[indices[p]]
            if column < 0:
                continue
            tf = counts[p]
            if scheme == 1:
                tf = 1.0 + np.log(tf)
            elif scheme == 2:
                tf = tf * (k1 + 1.0) / (tf + length_norm[row])
            weight = tf * idf[column]
            out_indices[q] = column
            out_data[q] = weight
            total += weight * weight
            q += 1
        if total > 0.0:
            norm = np.sqrt(total)
            for r in range(out_indptr[row], q):
                out_data[r] /= norm
    return out_indptr, out_indices, out_data


@dataclass(frozen=True)
class CandidateIndex:
    """One side's vectors by column (term), with each field's members."""

    ids: NDArray[np.int64]
    matrix: sp.csc_matrix
    field_masks: dict[str, NDArray[np.bool_]]


@dataclass(frozen=True)
class Counts:
    """Raw term counts of documents over their own (unfitted) term list."""

    terms: list[str]
    matrix: sp.csr_matrix  # documents x len(terms), counts
    lengths: NDArray[np.float64]  # tokens per document


PARALLEL_THRESHOLD = 20_000
_worker_matcher: TfidfMatcher | None = None
_worker_docs: Sequence[ProfileDoc] = ()
_FORK_LOCK = threading.Lock()


def _count_tokens(token_lists: Iterable[list[str]]) -> Counts:
    """Count terms per document over a term list built on the way (one sort, no Counter)."""
    # A new term gets the next id from the factory; known terms cost one C-level lookup.
    columns: defaultdict[str, int] = defaultdict(itertools.count().__next__)
    lookup = columns.__getitem__
    ids: list[int] = []
    lengths: list[int] = []
    for tokens in token_lists:
        ids.extend(map(lookup, tokens))
        lengths.append(len(tokens))
    length_array = np.asarray(lengths, dtype=np.int64)
    indptr, indices, counts = _count_rows(
        np.asarray(ids, dtype=np.int64), length_array, max(len(columns), 1)
    )
    matrix = sp.csr_matrix((counts, indices, indptr), shape=(len(lengths), len(columns)))
    return Counts(list(columns), matrix, length_array.astype(np.float64))


def _count_here(matcher: TfidfMatcher, docs: Sequence[ProfileDoc]) -> Counts:
    tokens = matcher.analyzer.tokens
    return _count_tokens(
        tokens(doc.texts[0], doc.lang)
        if len(doc.texts) == 1
        else list(itertools.chain.from_iterable(tokens(text, doc.lang) for text in doc.texts))
        for doc in docs
    )


def _count_chunk(bounds: tuple[int, int]) -> Counts:
    # The matcher and the documents reach worker processes by fork, not by pickling.
    assert _worker_matcher is not None
    return _count_here(_worker_matcher, _worker_docs[bounds[0] : bounds[1]])


def count_documents(matcher: TfidfMatcher, docs: Sequence[ProfileDoc]) -> Counts:
    """Analyse and count ``docs`` (texts concatenated), on every core for large sets.

    Each process counts a chunk over its own term list; the lists are merged here, so
    only compact arrays cross process boundaries.
    """
    global _worker_matcher, _worker_docs
    processes = min(os.cpu_count() or 1, 8)
    if (
        len(docs) < PARALLEL_THRESHOLD
        or processes < 2
        or multiprocessing.current_process().daemon  # e.g. inside a Celery prefork child
    ):
        return _count_here(matcher, docs)
    size = -(-len(docs) // (processes * 2))
    with _FORK_LOCK:  # the globals below are what the forked workers read
        _worker_matcher, _worker_docs = matcher, docs
        try:
            context = multiprocessing.get_context("fork")
            with context.Pool(processes) as pool:
                parts = pool.map(_count_chunk, [(i, i + size) for i in range(0, len(docs), size)])
        finally:
            _worker_matcher, _worker_docs = None, ()
    terms: dict[str, int] = {}
    for part in parts:
        for term in part.terms:
            terms.setdefault(term, len(terms))
    blocks = []
    for part in parts:
        mapping = np.array([terms[t] for t in part.terms], dtype=np.int64)
        matrix = part.matrix
        blocks.append(
            sp.csr_matrix(
                (matrix.data, mapping[matrix.indices], matrix.indptr),
                shape=(matrix.shape[0], len(terms)),
            )
        )
    return Counts(
        list(terms), sp.vstack(blocks, format="csr"), np.concatenate([p.lengths for p in parts])
    )


def _mutual_topk_of_scores(
    scores: dict[tuple[int, int], float], k: int
) -> dict[tuple[int, int], float]:
    by_left: dict[int, list[tuple[float, int]]] = defaultdict(list)
    by_right: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for (a, b), s in scores.items():
        by_left[a].append((-s, b))
        by_right[b].append((-s, a))
    keep: set[tuple[int, int]] = set()
    for a, partners in by_left.items():
        keep.update((a, b) for _, b in sorted(partners)[:k])
    for b, partners in by_right.items():
        keep.update((a, b) for _, a in sorted(partners)[:k])
    return {pair: scores[pair] for pair in keep}


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
