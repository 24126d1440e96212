"""Language detection and analysis of English, French and Japanese profile texts.

Each analyzer step exists because measurement on the labelled set said it helps (see
docs/benchmarks.md): stop words, Snowball stemming for English and French with accents
folded after stemming, SudachiPy content words in normalized form for Japanese, and
glossary concept tokens that let the three languages meet.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import Stemmer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from matcher.glossary import Glossary, build_indexes, default_glossary

LANGUAGES = ("en", "fr", "ja")

FRENCH_STOP_WORDS = frozenset(
    """
        a ai aie ainsi afin alors au aucun aupres auquel aussi autre autres aux avant avec avoir
        avons avez ayant c ca car ce ceci cela celle celles celui cependant certains ces cet
        cette ceux chaque chez ci comme comment d dans de depuis des deux dont du elle elles en
        encore entre est et etaient etait etant ete etre eu eux fait font hors il ils j jusqu l
        la le les leur leurs lors lui m ma mais me meme memes mes moi moins mon n ne ni nos
        notre nous on ont or ou par parce parmi pas peu peut peuvent plus plusieurs pour
        pourquoi qu quand que quel quelle quelles quels qui quoi s sa sans se selon ses si sien
        soit son sont sous souvent sur t ta tandis te tel telle telles tels tes toi ton toujours
        tous tout toute toutes tres tu un une unes uns vers via vos votre vous y
    """.split()
)
ENGLISH_STOPS = frozenset(ENGLISH_STOP_WORDS) | {"via", "using", "use", "used", "based"}
JAPANESE_STOP_WORDS = frozenset(
    """
        為る 居る 有る 在る 成る 出来る 行う 事 物 為 様 此れ 其れ 等 際 中 上 下 方 的 度
    """.split()
)

_LATIN_WORD = re.compile(r"[0-9a-zà-öø-ÿœæ]+", re.IGNORECASE)
# The same words in lower-cased text, without IGNORECASE (much faster to scan).
_LOWER_WORD = re.compile(r"[0-9a-zà-öø-ÿœæ]+")
_ASCII_LOWER_WORD = re.compile(r"[0-9a-z]+")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
_ASCII_WORD = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-+]*$")
_FRENCH_MARKERS = frozenset(
    """
        le la les des du de et est une un pour dans nous sur avec par qui que au aux leur ces
    """.split()
)
_ENGLISH_MARKERS = frozenset(
    """
        the and of to in for with we our is are on by that this from as an at
    """.split()
)
_CONTENT_POS = {"名詞", "動詞", "形容詞", "形状詞"}
_SKIPPED_SUBPOS = {"数詞", "代名詞", "非自立可能"}

Span = tuple[str, int, int]
_TERM_CACHE_SIZE = 500_000


def fold_accents(text: str) -> str:
    """Remove combining accents (é -> e) after NFKD decomposition."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def detect_language(text: str) -> str:
    """en, fr or ja: Japanese by script, French by its function words and accents."""
    if not text:
        return "en"
    japanese = len(_JAPANESE.findall(text))
    if japanese >= max(5, len(text) // 10):
        return "ja"
    words = [w.lower() for w in _LATIN_WORD.findall(text)]
    french = sum(1 for w in words if w in _FRENCH_MARKERS)
    english = sum(1 for w in words if w in _ENGLISH_MARKERS)
    accented = sum(1 for ch in text.lower() if ch in "àâçéèêëîïôûùüÿœ")
    return "fr" if french + accented / 4 > english else "en"


class _TermCache(dict[str, str | None]):
    """Lower-cased word -> index term (None: not indexed), computed on first sight."""

    def __init__(self, analyzer: TextAnalyzer, lang: str) -> None:
        super().__init__()
        self.analyzer = analyzer
        self.lang = lang

    def __missing__(self, word: str) -> str | None:
        term = self[word] = self.analyzer._term(word, self.lang)
        return term


class TextAnalyzer:
    """Turns a text into index terms, each with the character span it came from.

    Parameters are stored as given; language-specific tools are built on first use.
    """

    def __init__(
        self,
        *,
        stem: bool = True,
        stop_words: bool = True,
        glossary: Glossary | None = None,
        use_glossary: bool = True,
        ngram_max: int = 1,
    ) -> None:
        self.stem = stem
        self.stop_words = stop_words
        self.glossary = glossary
        self.use_glossary = use_glossary
        self.ngram_max = ngram_max

    def __getstate__(self) -> dict[str, Any]:
        # Tokenizers and indexes are rebuilt after unpickling, never stored.
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_cached_")}

    # -- language tools, built lazily -------------------------------------------------
    @cached_property
    def _cached_stemmers(self) -> dict[str, Any]:
        return {"en": Stemmer.Stemmer("english"), "fr": Stemmer.Stemmer("french")}

    @cached_property
    def _cached_sudachi(self) -> Any:
        from sudachipy import Dictionary, SplitMode

        return Dictionary(dict="core").tokenizer(mode=SplitMode.C)

    @cached_property
    def _cached_indexes(self) -> Any:
        glossary = self.glossary if self.glossary is not None else default_glossary()
        return build_indexes(
            glossary, lambda form, lang: [t for t, _, _ in self._latin(form, lang)]
        )

    # -- analysis ---------------------------------------------------------------------
    def analyze(self, text: str, lang: str | None = None) -> list[Span]:
        """Index terms of ``text`` with their (start, end) offsets in the NFKC text."""
        text = unicodedata.normalize("NFKC", text)
        lang = lang if lang in LANGUAGES else detect_language(text)
        if lang == "ja" or _JAPANESE.search(text):
            return self._japanese(text)
        spans = self._latin(text, lang)
        return spans + self._latin_extras(spans, lang)

    def tokens(self, text: str, lang: str | None = None) -> list[str]:
        """Just the index terms of ``text`` (the same as ``analyze`` without offsets)."""
        ascii_only = text.isascii()  # ASCII is already NFKC and has no Japanese
        if not ascii_only:
            text = unicodedata.normalize("NFKC", text)
        lang = lang if lang in LANGUAGES else detect_language(text)
        if not ascii_only and (lang == "ja" or _JAPANESE.search(text)):
            return [token for token, _, _ in self._japanese(text)]
        # The hot path of vectorizing: no match objects, no offsets.
        key = "fr" if lang == "fr" else "en"
        cache = self._cached_terms[key]
        if len(cache) > _TERM_CACHE_SIZE:
            cache.clear()
        words = (_ASCII_LOWER_WORD if ascii_only else _LOWER_WORD).findall(text.lower())
        # Known words cost one C-level lookup; the cache computes new ones itself.
        tokens: list[str] = list(filter(None, map(cache.__getitem__, words)))
        extras: list[str] = []
        if self.ngram_max >= 2:
            extras.extend(f"{a} {b}" for a, b in itertools.pairwise(tokens))
        if self.use_glossary:
            phrase_indexes, _ = self._cached_indexes
            extras.extend(concept for _, _, concept in phrase_indexes[key].find(tokens))
        tokens.extend(extras)
        return tokens

    def surface_forms(self, text: str, lang: str | None = None) -> dict[str, str]:
        """Each index term of ``text`` mapped to the words it was first written as."""
        normalised = unicodedata.normalize("NFKC", text)
        forms: dict[str, str] = {}
        for token, start, end in self.analyze(text, lang):
            forms.setdefault(token, normalised[start:end])
        return forms

    def _latin(self, text: str, lang: str) -> list[Span]:
        cache = self._cached_terms["fr" if lang == "fr" else "en"]
        if len(cache) > _TERM_CACHE_SIZE:  # bounded, whatever the input
            cache.clear()
        spans: list[Span] = []
        for match in _LATIN_WORD.finditer(text):
            term = cache[match.group().lower()]
            if term is not None:
                spans.append((term, match.start(), match.end()))
        return spans

    def _term(self, word: str, lang: str) -> str | None:
        """The index term of one lower-cased word, or None for a word that is not indexed."""
        if len(word) < 2 or word.isdigit():
            return None
        folded = word if word.isascii() else fold_accents(word)
        if self.stop_words and folded in (FRENCH_STOP_WORDS if lang == "fr" else ENGLISH_STOPS):
            return None
        if not self.stem:
            return folded
        stem = self._cached_stemmers["fr" if lang == "fr" else "en"].stemWord(word)
        return str(stem if stem.isascii() else fold_accents(stem))

    @cached_property
    def _cached_terms(self) -> dict[str, _TermCache]:
        # Word -> index term, per language: the same words recur in every profile.
        return {lang: _TermCache(self, lang) for lang in ("en", "fr")}

    def _latin_extras(self, spans: Sequence[Span], lang: str) -> list[Span]:
        extras: list[Span] = []
        if self.ngram_max >= 2:
            extras.extend((f"{a[0]} {b[0]}", a[1], b[2]) for a, b in itertools.pairwise(spans))
        if self.use_glossary:
            phrase_indexes, _ = self._cached_indexes
            tokens = [t for t, _, _ in spans]
            index = phrase_indexes["fr" if lang == "fr" else "en"]
            extras.extend(
                (concept, spans[start][1], spans[end - 1][2])
                for start, end, concept in index.find(tokens)
            )
        return extras

    def _japanese(self, text: str) -> list[Span]:
        spans: list[Span] = []
        run: list[Span] = []  # adjacent nouns, for compound bigrams
        latin_segments: list[tuple[int, int]] = []
        for morpheme in self._cached_sudachi.tokenize(text):
            surface = morpheme.surface()
            start, end = morpheme.begin(), morpheme.end()
            pos = morpheme.part_of_speech()
            if _ASCII_WORD.match(surface):
                latin_segments.append((start, end))
                run = []
                continue
            if pos[0] not in _CONTENT_POS or pos[1] in _SKIPPED_SUBPOS:
                run = []
                continue
            token = morpheme.normalized_form()
            if (self.stop_words and token in JAPANESE_STOP_WORDS) or (
                len(token) == 1 and not _JAPANESE.match(token)
            ):
                run = []
                continue
            span = (token, start, end)
            spans.append(span)
            if pos[0] == "名詞":
                if run and self.ngram_max >= 2:
                    spans.append((run[-1][0] + token, run[-1][1], end))
                run.append(span)
            else:
                run = []
        latin: list[Span] = []
        for start, end in latin_segments:
            latin.extend(
                (t, s + start, e + start) for t, s, e in self._latin(text[start:end], "en")
            )
        spans.extend(latin)
        spans.extend(self._latin_extras(latin, "en") if self.use_glossary else [])
        if self.use_glossary:
            _, japanese_index = self._cached_indexes
            spans.extend((token, s, e) for s, e, token in japanese_index.find(text.lower()))
        return spans
