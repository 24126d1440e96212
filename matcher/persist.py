"""Saving and loading a fitted matcher, so incremental rematches reuse the vocabulary of
the last full run.

The format is a zip of JSON and a NumPy array (no pickle: loading runs no code), stamped
with the package and scikit-learn versions and a digest of the glossary; loading refuses
a model made by another version or with another glossary, since its vocabulary would not
mean the same thing.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from importlib import metadata
from typing import Any

import numpy as np
import sklearn

from matcher.glossary import default_glossary
from matcher.tfidf import TfidfMatcher

FORMAT_VERSION = 1
_PARAMETERS = (
    "top_k", "n_terms", "tf", "bm25_k1", "bm25_b", "min_df", "max_df", "stop_words", "stem",
    "ngram_max", "use_glossary", "concept_weight", "aggregation", "mean_top", "pair_weights",
    "block_size",
)  # fmt: skip


class IncompatibleModel(ValueError):
    """The saved matcher was made by another version or with another glossary."""


def package_version() -> str:
    try:
        return metadata.version("grantmatch")
    except metadata.PackageNotFoundError:
        return "unknown"


def glossary_digest() -> str:
    digest = hashlib.sha256()
    for concept_id in sorted(default_glossary().concepts):
        concept = default_glossary().concepts[concept_id]
        digest.update(
            json.dumps([concept_id, concept.canonical, concept.forms], sort_keys=True).encode()
        )
    return digest.hexdigest()[:16]


def stamp() -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "grantmatch": package_version(),
        "scikit-learn": sklearn.__version__,
        "glossary": glossary_digest(),
    }


def dumps(matcher: TfidfMatcher) -> bytes:
    """Serialise a fitted matcher (parameters, vocabulary, IDF weights)."""
    if not hasattr(matcher, "vocabulary_"):
        raise ValueError("only a fitted matcher can be saved")
    meta = {
        **stamp(),
        "parameters": {name: getattr(matcher, name) for name in _PARAMETERS},
        "exclusions": sorted(list(pair) for pair in matcher.exclusions),
        "average_length": matcher.average_length_,
        "n_documents": matcher.n_documents_,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("meta.json", json.dumps(meta))
        archive.writestr(
            "terms.json", json.dumps(matcher.feature_names_.tolist(), ensure_ascii=False)
        )
        idf = io.BytesIO()
        np.save(idf, matcher.idf_, allow_pickle=False)
        archive.writestr("idf.npy", idf.getvalue())
    return buffer.getvalue()


def loads(data: bytes) -> TfidfMatcher:
    """Rebuild a fitted matcher; IncompatibleModel if versions or glossary differ."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            meta = json.loads(archive.read("meta.json"))
            terms = json.loads(archive.read("terms.json"))
            idf = np.load(io.BytesIO(archive.read("idf.npy")), allow_pickle=False)
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise IncompatibleModel(f"not a saved matcher: {error}") from None
    expected = stamp()
    for key in ("format", "grantmatch", "scikit-learn", "glossary"):
        if meta.get(key) != expected[key]:
            raise IncompatibleModel(
                f"saved with {key} {meta.get(key)!r}, this installation has {expected[key]!r}: "
                "run a full rematch to refit"
            )
    matcher = TfidfMatcher(
        **meta["parameters"], exclusions=[tuple(pair) for pair in meta["exclusions"]]
    )
    matcher.feature_names_ = np.array(terms, dtype=object)
    matcher.vocabulary_ = {term: i for i, term in enumerate(terms)}
    matcher.idf_ = idf
    matcher.average_length_ = float(meta["average_length"])
    matcher.n_documents_ = int(meta["n_documents"])
    matcher.vocabulary_size_ = len(terms)
    return matcher
