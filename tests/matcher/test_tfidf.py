from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from matcher import PairScore, ProfileDoc, TfidfMatcher
from matcher.tfidf import rank_pairs
from matcher.topk import mutual_topk, row_topk


def doc(id_: int, country: str, fields: tuple[str, ...], text: str, kind: str = "researcher"):
    return ProfileDoc(id=id_, country=country, kind=kind, fields=fields, texts=(text,))


CORPUS = [
    doc(1, "JP", ("quantum",), "superconducting qubit error correction surface code decoder"),
    doc(2, "JP", ("quantum",), "trapped ion quantum computer laser cooling"),
    doc(3, "JP", ("quantum", "semiconductors"), "silicon spin qubit cryogenic cmos control"),
    doc(10, "CA", ("quantum",), "surface code decoder for superconducting qubit arrays"),
    doc(11, "CA", ("quantum",), "laser cooling of trapped ion chains for quantum computing"),
    doc(12, "CA", ("semiconductors",), "cryogenic cmos control chips for silicon spin qubits"),
    doc(13, "CA", ("life_sciences",), "mrna vaccine lipid nanoparticle formulation"),
    doc(4, "JP", ("life_sciences",), "lipid nanoparticle mrna delivery vaccine"),
]


def test_match_produces_only_cross_border_pairs_within_shared_fields() -> None:
    pairs = TfidfMatcher().fit(CORPUS).match(CORPUS)
    by_id = {d.id: d for d in CORPUS}
    assert pairs
    for pair in pairs:
        jp, ca = by_id[pair.jp_id], by_id[pair.ca_id]
        assert (jp.country, ca.country) == ("JP", "CA")
        assert pair.field in jp.fields and pair.field in ca.fields


def test_match_ranks_the_obvious_partner_first_in_each_field() -> None:
    pairs = TfidfMatcher().fit(CORPUS).match(CORPUS)
    best_for_jp = {(p.field, p.jp_id): p.ca_id for p in pairs if p.rank_jp == 1}
    assert best_for_jp[("quantum", 1)] == 10
    assert best_for_jp[("quantum", 2)] == 11
    assert best_for_jp[("semiconductors", 3)] == 12
    assert best_for_jp[("life_sciences", 4)] == 13


def test_match_is_deterministic_and_ordered() -> None:
    first = TfidfMatcher().fit(CORPUS).match(CORPUS)
    second = TfidfMatcher().fit(list(reversed(CORPUS))).match(list(reversed(CORPUS)))
    assert first == second
    keys = [(p.field, -p.score, p.jp_id, p.ca_id) for p in first]
    assert keys == sorted(keys)


def test_match_explains_pairs_with_shared_terms() -> None:
    pairs = TfidfMatcher(n_terms=3).fit(CORPUS).match(CORPUS)
    pair = next(p for p in pairs if (p.jp_id, p.ca_id) == (1, 10))
    assert 0 < len(pair.terms) <= 3
    assert set(pair.terms) <= {"superconducting", "qubit", "surface", "code", "decoder"}


def test_match_keeps_top_k_from_each_side() -> None:
    many = [doc(i, "JP", ("ai",), f"machine learning vision topic{i}") for i in range(1, 8)]
    many += [doc(100 + i, "CA", ("ai",), f"machine learning vision topic{i}") for i in range(1, 8)]
    pairs = TfidfMatcher(top_k=2).fit(many).match(many)
    for pair in pairs:
        assert pair.rank_jp <= 2 or pair.rank_ca <= 2
    per_jp = {d.id: sum(1 for p in pairs if p.jp_id == d.id and p.rank_jp <= 2) for d in many[:7]}
    assert set(per_jp.values()) == {2}


def test_score_against_orders_by_score_then_id() -> None:
    matcher = TfidfMatcher().fit(CORPUS)
    scored = matcher.score_against(CORPUS[0], CORPUS[3:6])
    assert scored[0][0] == 10
    scores = [s for _, s, _ in scored]
    assert scores == sorted(scores, reverse=True)


def test_fit_refuses_an_empty_corpus() -> None:
    with pytest.raises(ValueError, match="empty"):
        TfidfMatcher().fit([])


def test_profile_doc_rejects_unknown_country() -> None:
    with pytest.raises(ValueError, match="JP or CA"):
        ProfileDoc(id=1, country="US", kind="startup", fields=(), texts=("x",))


def test_rank_pairs_ranks_each_side_by_score_then_partner_id() -> None:
    ranks = rank_pairs({(1, 10): 0.5, (1, 11): 0.5, (2, 10): 0.9})
    assert ranks[(1, 10)] == (1, 2)
    assert ranks[(1, 11)] == (2, 1)
    assert ranks[(2, 10)] == (1, 1)


def _brute_force_topk(dense: np.ndarray, k: int) -> dict[int, list[int]]:
    result = {}
    for i, row in enumerate(dense):
        columns = [j for j in np.lexsort((np.arange(row.size), -row)) if row[j] > 0][:k]
        if columns:
            result[i] = columns
    return result


@pytest.mark.parametrize("seed", range(5))
def test_row_topk_equals_brute_force_on_random_sparse_matrices(seed: int) -> None:
    rng = np.random.default_rng(seed)
    left = sp.random(37, 50, density=0.1, random_state=rng, format="csr")
    right = sp.random(41, 50, density=0.1, random_state=rng, format="csr")
    dense = (left @ right.T).toarray()
    expected = _brute_force_topk(dense, 4)
    got = {i: cols.tolist() for i, cols, _ in row_topk(left, right, 4, block_size=8)}
    assert got == expected


def test_mutual_topk_is_the_union_of_both_sides() -> None:
    rng = np.random.default_rng(7)
    left = sp.random(12, 30, density=0.3, random_state=rng, format="csr")
    right = sp.random(9, 30, density=0.3, random_state=rng, format="csr")
    dense = (left @ right.T).toarray()
    pairs = mutual_topk(left, right, 2, block_size=5)
    expected = {(i, j) for i, cols in _brute_force_topk(dense, 2).items() for j in cols}
    expected |= {(i, j) for j, rows in _brute_force_topk(dense.T, 2).items() for i in rows}
    assert set(pairs) == expected
    for (i, j), score in pairs.items():
        assert score == pytest.approx(dense[i, j])


def test_pair_score_is_a_plain_value() -> None:
    pair = PairScore("ai", 1, 2, 0.5, 1, 1, ("x",))
    assert pair == PairScore("ai", 1, 2, 0.5, 1, 1, ("x",))
