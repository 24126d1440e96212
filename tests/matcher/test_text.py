from __future__ import annotations

from matcher.text import detect_language, fold_accents, tokenize


def test_tokenize_splits_japanese_into_character_bigrams() -> None:
    tokens = tokenize("量子誤り訂正")
    assert "量子" in tokens and "訂正" in tokens


def test_tokenize_folds_french_accents_and_drops_stop_words() -> None:
    tokens = tokenize("Les réseaux électriques et la modélisation")
    assert "reseaux" in tokens and "electriques" in tokens and "modelisation" in tokens
    assert "les" not in tokens and "et" not in tokens


def test_tokenize_drops_english_stop_words_and_keeps_hyphenated_terms() -> None:
    tokens = tokenize("The design of a SiC-based inverter")
    assert tokens == ["design", "sic-based", "inverter"]


def test_tokenize_mixed_scripts() -> None:
    tokens = tokenize("GaN パワー半導体")
    assert "gan" in tokens and "半導" in tokens


def test_fold_accents() -> None:
    assert fold_accents("Québec, énergie, œuvre") == "Quebec, energie, œuvre"


def test_detect_language() -> None:
    assert detect_language("全固体電池の界面設計に関する研究") == "ja"
    assert detect_language("Nous développons des batteries pour les véhicules électriques.") == "fr"
    assert detect_language("We develop batteries for electric vehicles.") == "en"
    assert detect_language("") == "en"


def test_tokenize_drops_bare_numbers_but_keeps_alphanumeric_terms() -> None:
    assert tokenize("300 mm wafers at 10 mK, 5G and Ti-6Al-4V") == [
        "mm",
        "wafers",
        "mk",
        "5g",
        "ti-6al-4v",
    ]
