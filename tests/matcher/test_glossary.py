from __future__ import annotations

from collections import Counter

import pytest

from matcher.glossary import Glossary, default_glossary

FIELD_PREFIXES = {"am", "ai", "ct", "ls", "qc", "sc", "ot"}


def test_shipped_glossary_covers_the_seven_fields_in_three_languages() -> None:
    glossary = default_glossary()
    assert len(glossary) >= 500
    prefixes = Counter(concept_id.split(".")[0] for concept_id in glossary.concepts)
    assert set(prefixes) == FIELD_PREFIXES
    assert min(prefixes.values()) >= 60
    for concept in glossary.concepts.values():
        assert all(concept.forms.get(lang) for lang in ("en", "fr", "ja")), concept.id


def test_concepts_sharing_a_form_are_merged() -> None:
    glossary = Glossary.from_rows(
        [
            ("ai.fl", "federated learning", "apprentissage fédéré", "連合学習"),
            (
                "ot.fl",
                "federated learning | FL",
                "apprentissage fédéré",
                "連合学習 | フェデレーテッドラーニング",
            ),
        ]
    )
    assert glossary.concepts["ai.fl"].token == glossary.concepts["ot.fl"].token


def test_a_concept_defined_twice_is_an_error() -> None:
    with pytest.raises(ValueError, match="twice"):
        Glossary.from_rows([("x", "a", "a", "a"), ("x", "b", "b", "b")])
