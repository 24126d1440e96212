"""`grantmatch match` over JSON Lines, without a database."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from matcher.cli import main

LEFT = [
    {"id": "jp-1", "text": "超伝導量子ビットの量子誤り訂正と高速デコーダの研究", "lang": "ja"},
    {"id": 2, "texts": ["Sulfide solid electrolytes", "all-solid-state battery interfaces"]},
]
RIGHT = [
    {
        "id": "ca-1",
        "text": "Real-time decoders for quantum error correction on superconducting qubits",
    },
    {"id": "ca-2", "text": "Batteries tout solide à électrolyte sulfuré", "lang": "fr"},
    {"id": "ca-3", "text": "Wheat genomics and drought tolerance"},
]


def write(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def run(*args: str) -> tuple[int, list[dict[str, object]]]:
    out = io.StringIO()
    status = main(list(args), out=out)
    return status, [json.loads(line) for line in out.getvalue().splitlines()]


def test_top_k_finds_cross_lingual_partners(tmp_path: Path) -> None:
    left, right = write(tmp_path / "l.jsonl", LEFT), write(tmp_path / "r.jsonl", RIGHT)
    status, lines = run(str(left), str(right), "--top-k", "1")
    assert status == 0
    assert [(line["left"], line["right"]) for line in lines] == [("jp-1", "ca-1"), (2, "ca-2")]
    assert "量子誤り訂正" in lines[0]["terms"]
    assert "quantum error correction" in lines[0]["right_terms"]
    assert isinstance(lines[0]["score"], float)


def test_pairs_scores_exactly_the_given_pairs(tmp_path: Path) -> None:
    left, right = write(tmp_path / "l.jsonl", LEFT), write(tmp_path / "r.jsonl", RIGHT)
    pairs = write(
        tmp_path / "p.jsonl", [{"left": 2, "right": "ca-3"}, {"left": "jp-1", "right": "ca-1"}]
    )
    status, lines = run(str(left), str(right), "--pairs", str(pairs))
    assert status == 0
    assert [(line["left"], line["right"]) for line in lines] == [(2, "ca-3"), ("jp-1", "ca-1")]
    assert lines[0]["score"] == 0.0 and lines[1]["score"] > 0


def test_fit_on_one_side_only(tmp_path: Path) -> None:
    left, right = write(tmp_path / "l.jsonl", LEFT), write(tmp_path / "r.jsonl", RIGHT)
    status, lines = run(str(left), str(right), "--top-k", "1", "--fit", "right")
    assert status == 0 and lines


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": 1, "text": "ok"}\n{"id": 2\n', "l.jsonl:2: not valid JSON"),
        ('{"text": "no id"}\n', 'l.jsonl:1: "id" is required'),
        ('{"id": 1}\n', 'l.jsonl:1: each line needs "text"'),
        ('{"id": 1, "text": "a"}\n{"id": 1, "text": "b"}\n', "l.jsonl:2: duplicate id"),
        ('{"id": 1, "text": "a", "lang": "de"}\n', 'l.jsonl:1: "lang" must be'),
        ('{"id": 1, "texts": []}\n', 'l.jsonl:1: "texts" must be'),
        ("[1, 2]\n", "l.jsonl:1: expected a JSON object"),
    ],
)
def test_malformed_lines_name_file_and_line_and_print_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    left = tmp_path / "l.jsonl"
    left.write_text(content, "utf-8")
    right = write(tmp_path / "r.jsonl", RIGHT)
    status, lines = run(str(left), str(right))
    assert status == 2
    assert lines == []
    assert message in capsys.readouterr().err


def test_unknown_pair_ids_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    left, right = write(tmp_path / "l.jsonl", LEFT), write(tmp_path / "r.jsonl", RIGHT)
    pairs = write(tmp_path / "p.jsonl", [{"left": "nobody", "right": "ca-1"}])
    status, lines = run(str(left), str(right), "--pairs", str(pairs))
    assert status == 2 and lines == []
    assert "p.jsonl:1: left id 'nobody'" in capsys.readouterr().err


def test_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = run(str(tmp_path / "none.jsonl"), str(tmp_path / "none.jsonl"))
    assert status == 2
    assert "cannot read" in capsys.readouterr().err
