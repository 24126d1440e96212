from __future__ import annotations

import pytest

from matcher.glossary import Glossary
from matcher.text import TextAnalyzer, detect_language, fold_accents

GLOSSARY = Glossary.from_rows(
    [
        (
            "qc.qec",
            "quantum error correction | QEC",
            "correction d'erreurs quantiques",
            "量子誤り訂正",
        ),
        ("ct.ssb", "solid-state battery", "batterie tout solide", "全固体電池"),
    ]
)


@pytest.fixture(scope="module")
def analyzer() -> TextAnalyzer:
    return TextAnalyzer(glossary=GLOSSARY)


def test_japanese_keeps_content_words_in_normalized_form(analyzer: TextAnalyzer) -> None:
    tokens = analyzer.tokens("当研究室ではFPGAデコーダを開発しています。", "ja")
    assert "研究室" in tokens and "デコーダー" in tokens  # デコーダ normalised
    assert "fpga" in tokens
    assert "で" not in tokens and "は" not in tokens and "ます" not in tokens


def test_japanese_glossary_forms_become_concept_tokens(analyzer: TextAnalyzer) -> None:
    tokens = analyzer.tokens("量子誤り訂正と全固体電池の研究", "ja")
    assert "§qc.qec" in tokens and "§ct.ssb" in tokens


def test_french_is_stemmed_folded_and_stop_words_dropped(analyzer: TextAnalyzer) -> None:
    tokens = analyzer.tokens("Les réseaux électriques et la modélisation des batteries", "fr")
    assert "les" not in tokens and "et" not in tokens and "la" not in tokens
    assert "reseau" in tokens and "electr" in tokens
    # Accents folded after stemming: a text typed without accents meets one with them.
    assert analyzer.tokens("reseaux electriques", "fr") == ["reseau", "electr"]


def test_english_is_stemmed_and_drops_stop_words_and_bare_numbers(analyzer: TextAnalyzer) -> None:
    assert analyzer.tokens("The batteries of 300 vehicles", "en") == ["batteri", "vehicl"]


def test_glossary_concepts_join_three_languages(analyzer: TextAnalyzer) -> None:
    english = analyzer.tokens("Decoders for quantum error correction.", "en")
    french = analyzer.tokens("Décodeurs pour la correction d'erreurs quantiques.", "fr")
    japanese = analyzer.tokens("量子誤り訂正の復号器", "ja")
    assert "§qc.qec" in english and "§qc.qec" in french and "§qc.qec" in japanese


def test_surface_forms_give_the_words_as_written(analyzer: TextAnalyzer) -> None:
    forms = analyzer.surface_forms("Solid-state batteries for EVs", "en")
    assert forms["batteri"] == "batteries"
    assert forms["§ct.ssb"] == "Solid-state batteries"


def test_ngrams_add_adjacent_pairs() -> None:
    tokens = TextAnalyzer(ngram_max=2, use_glossary=False).tokens("silicon carbide wafers", "en")
    assert "silicon carbid" in tokens and "carbid wafer" in tokens


def test_fold_accents() -> None:
    assert fold_accents("Québec, énergie") == "Quebec, energie"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("全固体電池の界面設計に関する研究", "ja"),
        ("Nous développons des batteries pour les véhicules électriques.", "fr"),
        ("We develop batteries for electric vehicles.", "en"),
        ("Analyse des données de la mission et du réseau", "fr"),
        ("", "en"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_undeclared_language_is_detected(analyzer: TextAnalyzer) -> None:
    assert analyzer.tokens("Les batteries électriques") == analyzer.tokens(
        "Les batteries électriques", "fr"
    )
