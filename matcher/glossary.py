"""The trilingual glossary: surface forms in English, French and Japanese mapped to one
shared concept token, so that profiles written in different languages meet.

Data: one TSV per MOC field in matcher/data/glossary/ with columns concept, en, fr, ja;
several forms in a column are separated by " | ".
"""

from __future__ import annotations

import csv
import itertools
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

CONCEPT_PREFIX = "§"
LANGUAGES = ("en", "fr", "ja")


@dataclass(frozen=True)
class Concept:
    id: str
    forms: dict[str, tuple[str, ...]]
    # Concepts of different fields that share a surface form are one concept: they all
    # use the token of the smallest id among them.
    canonical: str = ""

    @property
    def token(self) -> str:
        return CONCEPT_PREFIX + (self.canonical or self.id)

    def label(self, lang: str) -> str:
        """The preferred form in ``lang`` (English if it has none)."""
        forms = self.forms.get(lang) or self.forms["en"]
        return forms[0]


@dataclass
class Glossary:
    """Concepts and their surface forms, with matchers built for each language."""

    concepts: dict[str, Concept] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[str]]) -> Glossary:
        """Build from (concept, en, fr, ja) rows; forms separated by " | "."""
        glossary = cls()
        for row in rows:
            concept_id, *columns = (cell.strip() for cell in row)
            forms = {
                lang: tuple(f.strip() for f in column.split("|") if f.strip())
                for lang, column in zip(LANGUAGES, columns, strict=True)
            }
            if concept_id in glossary.concepts:
                raise ValueError(f"glossary concept {concept_id!r} is defined twice")
            glossary.concepts[concept_id] = Concept(concept_id, forms)
        glossary._merge_shared_forms()
        return glossary

    def _merge_shared_forms(self) -> None:
        parent = {concept_id: concept_id for concept_id in self.concepts}

        def root(concept_id: str) -> str:
            while parent[concept_id] != concept_id:
                parent[concept_id] = parent[parent[concept_id]]
                concept_id = parent[concept_id]
            return concept_id

        owner: dict[tuple[str, str], str] = {}
        for concept in self.concepts.values():
            for lang, forms in concept.forms.items():
                for form in forms:
                    key = (lang, unicodedata.normalize("NFKC", form).casefold())
                    if key in owner:
                        a, b = root(owner[key]), root(concept.id)
                        parent[max(a, b)] = min(a, b)
                    else:
                        owner[key] = concept.id
        for concept_id, concept in list(self.concepts.items()):
            canonical = root(concept_id)
            if canonical != concept_id:
                self.concepts[concept_id] = Concept(concept_id, concept.forms, canonical)

    def __len__(self) -> int:
        return len(self.concepts)

    def by_token(self, token: str) -> Concept | None:
        """The concept a token stands for (the canonical one of a merged group)."""
        return self.concepts.get(token.removeprefix(CONCEPT_PREFIX))


@cache
def default_glossary() -> Glossary:
    """The glossary shipped with the package (all seven fields)."""
    folder = resources.files("matcher").joinpath("data", "glossary")
    rows: list[list[str]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".tsv"):
            continue
        reader = csv.reader(
            entry.read_text(encoding="utf-8").splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE
        )
        header = next(reader)
        if header != ["concept", *LANGUAGES]:
            raise ValueError(f"{entry.name}: unexpected header {header}")
        rows.extend(row for row in reader if row)
    return Glossary.from_rows(rows)


class PhraseIndex:
    """Finds glossary phrases in a token sequence (longest match first, no overlaps)."""

    def __init__(self, phrases: Iterable[tuple[tuple[str, ...], str]]) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for tokens, token in phrases:
            if tokens:
                self._by_first.setdefault(tokens[0], []).append((tokens, token))
        for candidates in self._by_first.values():
            candidates.sort(key=lambda c: -len(c[0]))

    def find(self, tokens: Sequence[str]) -> list[tuple[int, int, str]]:
        """(start, end, concept token) for each match in ``tokens``."""
        by_first = self._by_first
        found: list[tuple[int, int, str]] = []
        covered = 0  # matches do not overlap
        # Few tokens start a phrase: visit only those, found at C speed (this runs for
        # every profile).
        for i in itertools.compress(itertools.count(), map(by_first.__contains__, tokens)):
            if i < covered:
                continue
            for phrase, token in by_first[tokens[i]]:
                end = i + len(phrase)
                if len(phrase) == 1 or tuple(tokens[i:end]) == phrase:
                    found.append((i, end, token))
                    covered = end
                    break
        return found


class SubstringIndex:
    """Finds glossary forms in unsegmented (Japanese) text, longest first, no overlaps."""

    def __init__(self, forms: Iterable[tuple[str, str]]) -> None:
        self._by_first: dict[str, list[tuple[str, str]]] = {}
        for form, token in forms:
            if form:
                self._by_first.setdefault(form[0], []).append((form, token))
        for candidates in self._by_first.values():
            candidates.sort(key=lambda c: -len(c[0]))

    def find(self, text: str) -> list[tuple[int, int, str]]:
        found: list[tuple[int, int, str]] = []
        i, n = 0, len(text)
        by_first = self._by_first
        while i < n:
            candidates = by_first.get(text[i])
            if candidates:
                for form, token in candidates:
                    if text.startswith(form, i):
                        found.append((i, i + len(form), token))
                        i += len(form) - 1
                        break
            i += 1
        return found


def build_indexes(
    glossary: Glossary, latin_tokens: Callable[[str, str], list[str]]
) -> tuple[dict[str, PhraseIndex], SubstringIndex]:
    """Phrase indexes for en and fr (over the analyzer's own tokens) and the ja index."""
    phrase_indexes = {
        lang: PhraseIndex(
            (tuple(latin_tokens(form, lang)), concept.token)
            for concept in glossary.concepts.values()
            for form in concept.forms.get(lang, ())
        )
        for lang in ("en", "fr")
    }
    japanese = SubstringIndex(
        (unicodedata.normalize("NFKC", form).lower(), concept.token)
        for concept in glossary.concepts.values()
        for form in concept.forms.get("ja", ())
    )
    return phrase_indexes, japanese
