"""Synthetic profiles for speed and memory benchmarks (not for quality).

Words are pronounceable pseudo-words drawn from a Zipf distribution over a 60,000-word
vocabulary, mixed with each field's own topical vocabulary, 150-300 words a profile, one
or two MOC fields each, half Japanese-side and half Canadian-side. Same seed, same data.
"""

from __future__ import annotations

import numpy as np

from core.demo import FIELD_CODES
from matcher.types import CANADA, JAPAN, ProfileDoc

FIELDS = tuple(FIELD_CODES)
_SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"] + ["qu", "th", "st", "ch"]


def _vocabulary(rng: np.random.Generator, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        parts = rng.integers(0, len(_SYLLABLES), size=int(rng.integers(2, 5)))
        words.add("".join(_SYLLABLES[p] for p in parts))
    return sorted(words)


def synthetic_profiles(
    n_per_side: int, *, seed: int = 20230921, vocabulary_size: int = 60_000
) -> list[ProfileDoc]:
    """``n_per_side`` Japanese and as many Canadian profiles, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    vocabulary = np.array(_vocabulary(rng, vocabulary_size))
    ranks = np.arange(1, vocabulary_size + 1, dtype=np.float64)
    general = ranks**-1.07
    general /= general.sum()
    # Each field favours its own slice of the vocabulary (its jargon).
    field_words = {field: rng.choice(vocabulary_size, size=3000, replace=False) for field in FIELDS}
    lengths = rng.integers(150, 301, size=2 * n_per_side)
    n_jargon = (lengths * 0.3).astype(np.int64)
    # Draw every general word at once: per-document draws with p= are slow.
    common_all = rng.choice(vocabulary_size, size=int((lengths - n_jargon).sum()), p=general)
    jargon_all = rng.zipf(1.3, size=int(n_jargon.sum())) - 1
    common_at = np.concatenate([[0], np.cumsum(lengths - n_jargon)])
    jargon_at = np.concatenate([[0], np.cumsum(n_jargon)])
    docs: list[ProfileDoc] = []
    for index in range(2 * n_per_side):
        country = JAPAN if index < n_per_side else CANADA
        n_fields = 1 if rng.random() < 0.7 else 2
        fields = tuple(sorted(rng.choice(len(FIELDS), size=n_fields, replace=False)))
        field_names = tuple(FIELDS[f] for f in fields)
        common = common_all[common_at[index] : common_at[index + 1]]
        jargon_pool = field_words[field_names[0]]
        jargon = jargon_pool[jargon_all[jargon_at[index] : jargon_at[index + 1]] % jargon_pool.size]
        words = vocabulary[np.concatenate([common, jargon])]
        rng.shuffle(words)
        docs.append(
            ProfileDoc(
                id=index + 1,
                country=country,
                kind="startup" if rng.random() < 0.4 else "researcher",
                fields=field_names,
                texts=(" ".join(words.tolist()),),
                lang="en",
            )
        )
    return docs
