from __future__ import annotations

import pytest

from matcher import ProfileDoc, TfidfMatcher
from matcher.glossary import Glossary
from matcher.tfidf import rank_pairs

GLOSSARY = Glossary.from_rows(
    [
        ("qc.qec", "quantum error correction", "correction d'erreurs quantiques", "量子誤り訂正"),
        ("qc.sc_qubit", "superconducting qubit", "qubit supraconducteur", "超伝導量子ビット"),
        ("ls.mrna", "mRNA vaccine", "vaccin à ARNm", "mRNAワクチン"),
    ]
)


def doc(
    id_: int,
    country: str,
    fields: tuple[str, ...],
    text: str,
    kind: str = "researcher",
    lang: str | None = "en",
    available: bool = True,
) -> ProfileDoc:
    return ProfileDoc(id_, country, kind, fields, (text,), lang, available)


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


def matcher(**params: object) -> TfidfMatcher:
    params.setdefault("glossary", GLOSSARY)
    params.setdefault("max_df", 1.0)
    return TfidfMatcher(**params)  # type: ignore[arg-type]


def test_match_produces_only_cross_border_pairs_within_shared_fields() -> None:
    pairs = matcher().fit(CORPUS).match(CORPUS)
    by_id = {d.id: d for d in CORPUS}
    assert pairs
    for pair in pairs:
        jp, ca = by_id[pair.jp_id], by_id[pair.ca_id]
        assert (jp.country, ca.country) == ("JP", "CA")
        assert pair.field in jp.fields and pair.field in ca.fields


def test_match_groups_pairs_per_field_and_ranks_the_obvious_partner_first() -> None:
    pairs = matcher().fit(CORPUS).match(CORPUS)
    best_for_jp = {(p.field, p.jp_id): p.ca_id for p in pairs if p.rank_jp == 1}
    assert best_for_jp[("quantum", 1)] == 10
    assert best_for_jp[("quantum", 2)] == 11
    assert best_for_jp[("semiconductors", 3)] == 12
    assert best_for_jp[("life_sciences", 4)] == 13
    assert {p.field for p in pairs} == {"quantum", "semiconductors", "life_sciences"}


def test_match_is_deterministic_and_ordered() -> None:
    first = matcher().fit(CORPUS).match(CORPUS)
    second = matcher().fit(list(reversed(CORPUS))).match(list(reversed(CORPUS)))
    assert first == second
    keys = [(p.field, -p.score, p.jp_id, p.ca_id) for p in first]
    assert keys == sorted(keys)


def test_match_explains_pairs_in_each_sides_own_words() -> None:
    docs = [
        doc(1, "JP", ("quantum",), "超伝導量子ビットの量子誤り訂正を研究しています。", lang="ja"),
        doc(2, "CA", ("quantum",), "Nous étudions la correction d'erreurs quantiques.", lang="fr"),
        doc(
            3, "CA", ("quantum",), "Quantum error correction on superconducting qubits.", lang="en"
        ),
    ]
    pairs = matcher().fit(docs).match(docs)
    explained = {(p.jp_id, p.ca_id): p.terms for p in pairs}
    assert ("量子誤り訂正", "correction d'erreurs quantiques") in explained[(1, 2)]
    assert ("量子誤り訂正", "Quantum error correction") in explained[(1, 3)]
    assert ("超伝導量子ビット", "superconducting qubits") in explained[(1, 3)]


def test_glossary_lets_a_japanese_profile_find_its_english_partner() -> None:
    docs = [
        doc(1, "JP", ("quantum",), "量子誤り訂正の高速な復号アルゴリズム", lang="ja"),
        doc(2, "CA", ("quantum",), "Fast decoders for quantum error correction", lang="en"),
        doc(3, "CA", ("quantum",), "Photonic integrated circuits for LIDAR", lang="en"),
    ]
    with_glossary = matcher().fit(docs).score_against(docs[0], docs[1:])
    without = matcher(use_glossary=False).fit(docs).score_against(docs[0], docs[1:])
    assert [cid for cid, _, _ in with_glossary][:1] == [2]
    assert without == []  # no shared token at all without the glossary


def test_match_keeps_top_k_from_each_side() -> None:
    many = [doc(i, "JP", ("ai",), f"machine learning vision topic{i}") for i in range(1, 8)]
    many += [doc(100 + i, "CA", ("ai",), f"machine learning vision topic{i}") for i in range(1, 8)]
    pairs = matcher(top_k=2).fit(many).match(many)
    for pair in pairs:
        assert pair.rank_jp <= 2 or pair.rank_ca <= 2
    assert all(sum(1 for p in pairs if p.jp_id == i and p.rank_jp <= 2) == 2 for i in range(1, 8))


def test_exclusions_and_unavailable_profiles_are_never_proposed() -> None:
    docs = [
        *CORPUS,
        doc(14, "CA", ("quantum",), "surface code decoder superconducting qubit", available=False),
        doc(15, "CA", ("quantum",), "decoder hardware for surface code experiments"),
    ]
    pairs = matcher(exclusions=[(1, 10)]).fit(docs).match(docs)
    ids = {(p.jp_id, p.ca_id) for p in pairs}
    assert (1, 10) not in ids
    assert not any(p.ca_id == 14 for p in pairs)
    assert next(p for p in pairs if p.jp_id == 1 and p.rank_jp == 1).ca_id == 15


def test_pair_kind_weights_reorder_partners() -> None:
    docs = [
        doc(1, "JP", ("ai",), "robot grasping with vision transformers", kind="startup"),
        doc(2, "CA", ("ai",), "robot grasping with vision transformers and tactile sensing"),
        doc(3, "CA", ("ai",), "robot grasping with vision", kind="startup"),
    ]
    plain = matcher().fit(docs).match(docs)
    assert next(p for p in plain if p.rank_jp == 1).ca_id == 3
    weighted = matcher(pair_weights={"startup-startup": 0.5}).fit(docs).match(docs)
    assert next(p for p in weighted if p.rank_jp == 1).ca_id == 2


@pytest.mark.parametrize("aggregation", ["concat", "max", "mean_top"])
def test_profiles_with_several_texts(aggregation: str) -> None:
    docs = [
        ProfileDoc(1, "JP", "researcher", ("ai",), ("speech recognition", "sign language video")),
        ProfileDoc(2, "CA", "researcher", ("ai",), ("sign language video datasets",)),
        ProfileDoc(3, "CA", "researcher", ("ai",), ("protein folding",)),
    ]
    pairs = matcher(aggregation=aggregation).fit(docs).match(docs)
    assert [(p.jp_id, p.ca_id) for p in pairs] == [(1, 2)]


@pytest.mark.parametrize("tf", ["raw", "sublinear", "bm25"])
def test_term_frequency_schemes_give_unit_cosines(tf: str) -> None:
    docs = [
        doc(1, "JP", ("ai",), "graph neural network"),
        doc(2, "CA", ("ai",), "graph neural network"),
    ]
    pairs = matcher(tf=tf).fit(docs).match(docs)
    assert pairs[0].score == pytest.approx(1.0)


def test_invalid_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="tf must be"):
        matcher(tf="log").fit(CORPUS)
    with pytest.raises(ValueError, match="aggregation"):
        matcher(aggregation="sum").fit(CORPUS)
    with pytest.raises(ValueError, match="empty"):
        matcher().fit([])


def test_profile_doc_rejects_unknown_country() -> None:
    with pytest.raises(ValueError, match="JP or CA"):
        ProfileDoc(id=1, country="US", kind="startup", fields=(), texts=("x",))


def test_rank_pairs_ranks_each_side_by_score_then_partner_id() -> None:
    ranks = rank_pairs({(1, 10): 0.5, (1, 11): 0.5, (2, 10): 0.9})
    assert ranks[(1, 10)] == (1, 2)
    assert ranks[(1, 11)] == (2, 1)
    assert ranks[(2, 10)] == (1, 1)


def test_top_partners_from_an_index_agree_with_score_against() -> None:
    fitted = matcher(top_k=2).fit(CORPUS)
    canadians = [d for d in CORPUS if d.country == "CA"]
    index = fitted.build_index(canadians)
    for japanese in (d for d in CORPUS if d.country == "JP"):
        partners = fitted.top_partners(japanese, index)
        for field in japanese.fields:
            in_field = [c for c in canadians if field in c.fields]
            expected = [(cid, s) for cid, s, _ in fitted.score_against(japanese, in_field)][:2]
            assert [c for c, _ in partners[field]] == [c for c, _ in expected]
            assert [s for _, s in partners[field]] == pytest.approx([s for _, s in expected])
