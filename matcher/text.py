"""Text normalisation and tokenisation for English, French and Japanese."""

from __future__ import annotations

import re
import unicodedata

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

FRENCH_STOP_WORDS = frozenset(
    [
        "au",
        "aux",
        "avec",
        "ce",
        "ces",
        "dans",
        "de",
        "des",
        "du",
        "elle",
        "en",
        "et",
        "eux",
        "il",
        "ils",
        "je",
        "la",
        "le",
        "les",
        "leur",
        "lui",
        "ma",
        "mais",
        "me",
        "meme",
        "mes",
        "moi",
        "mon",
        "ne",
        "nos",
        "notre",
        "nous",
        "on",
        "ou",
        "par",
        "pas",
        "pour",
        "qu",
        "que",
        "qui",
        "sa",
        "se",
        "ses",
        "son",
        "sur",
        "ta",
        "te",
        "tes",
        "toi",
        "ton",
        "tu",
        "un",
        "une",
        "vos",
        "votre",
        "vous",
        "c",
        "d",
        "j",
        "l",
        "a",
        "m",
        "n",
        "s",
        "t",
        "y",
        "ete",
        "etre",
        "avons",
        "avez",
        "ont",
        "sont",
        "est",
        "cette",
        "cet",
        "comme",
        "plus",
        "ainsi",
        "afin",
        "entre",
        "sans",
        "sous",
        "chez",
        "dont",
        "leurs",
        "tres",
        "aussi",
        "nos",
        "notre",
    ]
)

STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | FRENCH_STOP_WORDS

_LATIN_TOKEN = re.compile(r"[a-z0-9][a-z0-9\-]*[a-z0-9]|[a-z]")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]+")


def fold_accents(text: str) -> str:
    """Remove combining accents (é -> e) after NFKD decomposition."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def detect_language(text: str) -> str:
    """Guess en, fr or ja from the script and a few French function words."""
    if not text:
        return "en"
    cjk = sum(len(run) for run in _CJK_RUN.findall(text))
    if cjk >= max(5, len(text) // 10):
        return "ja"
    words = re.findall(r"[a-zàâçéèêëîïôûùüÿœ']+", text.lower())
    french_markers = {"les", "des", "une", "est", "pour", "avec", "dans", "nous", "sur", "et"}
    accented = sum(1 for ch in text if ch in "àâçéèêëîïôûùüÿœ")
    hits = sum(1 for w in words if w in french_markers)
    if words and (hits / len(words) > 0.08 or accented / max(1, len(text)) > 0.01):
        return "fr"
    return "en"


def tokenize(text: str) -> list[str]:
    """Lowercase, fold accents, drop stop words; Japanese runs become character bigrams.

    Character bigrams are the plain baseline for unsegmented Japanese: they need no
    dictionary and catch shared compounds such as 量子 or 電池.
    """
    normalised = unicodedata.normalize("NFKC", text).lower()
    tokens: list[str] = []
    for run in _CJK_RUN.findall(normalised):
        if len(run) == 1:
            tokens.append(run)
        else:
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    latin = fold_accents(_CJK_RUN.sub(" ", normalised))
    tokens.extend(
        t
        for t in _LATIN_TOKEN.findall(latin)
        # Bare numbers ("10", "300") say little about a topic and crowd explanations.
        if len(t) > 1 and t not in STOP_WORDS and not t.replace("-", "").isdigit()
    )
    return tokens
