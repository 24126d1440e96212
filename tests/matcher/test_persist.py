from __future__ import annotations

import io
import json
import zipfile

import pytest

from matcher import ProfileDoc, TfidfMatcher
from matcher.persist import IncompatibleModel, dumps, loads

DOCS = [
    ProfileDoc(1, "JP", "researcher", ("quantum",), ("量子誤り訂正の復号器",), "ja"),
    ProfileDoc(2, "CA", "startup", ("quantum",), ("Decoders for quantum error correction",)),
    ProfileDoc(3, "CA", "researcher", ("quantum",), ("Trapped ion clocks",)),
]


def test_save_load_round_trip_gives_identical_matches() -> None:
    fitted = TfidfMatcher(top_k=5, pair_weights={"startup-researcher": 1.5}, exclusions=[(1, 3)])
    fitted.fit(DOCS)
    restored = loads(dumps(fitted))
    assert restored.match(DOCS) == fitted.match(DOCS)
    assert restored.get_params() == fitted.get_params()
    assert restored.vocabulary_ == fitted.vocabulary_


def test_only_a_fitted_matcher_can_be_saved() -> None:
    with pytest.raises(ValueError, match="fitted"):
        dumps(TfidfMatcher())


def test_a_model_from_another_version_is_refused() -> None:
    data = dumps(TfidfMatcher().fit(DOCS))
    archive = zipfile.ZipFile(io.BytesIO(data))
    files = {name: archive.read(name) for name in archive.namelist()}
    meta = json.loads(files["meta.json"])
    meta["scikit-learn"] = "0.1"
    files["meta.json"] = json.dumps(meta).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as changed:
        for name, content in files.items():
            changed.writestr(name, content)
    with pytest.raises(IncompatibleModel, match="scikit-learn"):
        loads(buffer.getvalue())


def test_garbage_is_refused() -> None:
    with pytest.raises(IncompatibleModel):
        loads(b"not a model")
