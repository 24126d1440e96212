"""`grantmatch match LEFT.jsonl RIGHT.jsonl`: score two sets of documents, no database.

Input lines: {"id": ..., "text": "..."} or {"id": ..., "texts": ["...", ...]}, optionally
with "lang" (en|fr|ja), "country" (JP|CA), "kind" (researcher|startup) and "fields".
Output lines: {"left": id, "right": id, "score": float, "terms": [...], "right_terms": [...]}
where terms are the contributing words as written in the left document and right_terms
the same terms as written in the right one. Input is checked whole before anything is
printed; a malformed line stops with "FILE:LINE: message" and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from matcher.tfidf import TfidfMatcher
from matcher.topk import FieldProblem
from matcher.types import CANADA, JAPAN, ProfileDoc

INPUT_ERROR = 2


class InputError(Exception):
    """A malformed input line; the message names the file and line."""


@dataclass(frozen=True)
class Document:
    key: Any  # the id as given (string or number)
    doc: ProfileDoc


def _fail(path: Path, line_number: int, message: str) -> InputError:
    return InputError(f"{path}:{line_number}: {message}")


def json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; InputError names a bad line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read: {error}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise _fail(path, number, f"not valid JSON ({error.msg})") from None
        if not isinstance(row, dict):
            raise _fail(path, number, "expected a JSON object")
        yield number, row


def read_documents(path: Path, side: str, first_index: int) -> list[Document]:
    """Parse a JSON Lines file of documents; InputError names the first bad line."""
    documents: list[Document] = []
    seen: set[str] = set()
    for number, row in json_lines(path):
        if "id" not in row or not isinstance(row["id"], str | int) or isinstance(row["id"], bool):
            raise _fail(path, number, '"id" is required (a string or an integer)')
        key = json.dumps(row["id"])
        if key in seen:
            raise _fail(path, number, f"duplicate id {row['id']!r}")
        seen.add(key)
        texts = _texts(row, path, number)
        lang = row.get("lang")
        if lang is not None and lang not in ("en", "fr", "ja"):
            raise _fail(path, number, '"lang" must be en, fr or ja')
        country = row.get("country", JAPAN if side == "left" else CANADA)
        if country not in (JAPAN, CANADA):
            raise _fail(path, number, '"country" must be JP or CA')
        kind = row.get("kind", "researcher")
        if kind not in ("researcher", "startup"):
            raise _fail(path, number, '"kind" must be researcher or startup')
        fields = row.get("fields", [])
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise _fail(path, number, '"fields" must be a list of strings')
        doc = ProfileDoc(
            id=first_index + len(documents),
            country=country,
            kind=kind,
            fields=tuple(fields),
            texts=texts,
            lang=lang,
        )
        documents.append(Document(row["id"], doc))
    return documents


def _texts(row: dict[str, Any], path: Path, number: int) -> tuple[str, ...]:
    if "texts" in row:
        texts = row["texts"]
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise _fail(path, number, '"texts" must be a non-empty list of strings')
        return tuple(texts)
    if isinstance(row.get("text"), str):
        return (row["text"],)
    raise _fail(path, number, 'each line needs "text" (a string) or "texts" (a list)')


def read_pairs(
    path: Path, left: dict[str, Document], right: dict[str, Document]
) -> list[tuple[Document, Document]]:
    """Parse {"left": id, "right": id} lines; both ids must exist."""
    pairs = []
    for number, row in json_lines(path):
        if "left" not in row or "right" not in row:
            raise _fail(path, number, 'expected {"left": id, "right": id}')
        a, b = left.get(json.dumps(row["left"])), right.get(json.dumps(row["right"]))
        if a is None:
            raise _fail(path, number, f"left id {row['left']!r} is not in the left file")
        if b is None:
            raise _fail(path, number, f"right id {row['right']!r} is not in the right file")
        pairs.append((a, b))
    return pairs


def _line(left: Document, right: Document, score: float, terms: Sequence[tuple[str, str]]) -> str:
    return json.dumps(
        {
            "left": left.key,
            "right": right.key,
            "score": round(score, 6),
            "terms": [a for a, _ in terms],
            "right_terms": [b for _, b in terms],
        },
        ensure_ascii=False,
    )


def match_files(args: argparse.Namespace) -> list[str]:
    """All output lines, computed before any is printed."""
    left = read_documents(Path(args.left), "left", 0)
    right = read_documents(Path(args.right), "right", len(left))
    if not left or not right:
        raise InputError("both files need at least one document")
    fit_on = {"both": left + right, "left": left, "right": right}[args.fit]
    matcher = TfidfMatcher(top_k=args.top_k, n_terms=args.terms).fit([d.doc for d in fit_on])
    lines: list[str] = []
    if args.pairs:
        pairs = read_pairs(Path(args.pairs), _by_key(left), _by_key(right))
        explained = matcher.explain_many([(a.doc, b.doc) for a, b in pairs])
        matrix = matcher.transform([d.doc for d in left + right])
        position = {d.doc.id: n for n, d in enumerate(left + right)}
        for (a, b), terms in zip(pairs, explained, strict=True):
            score = float(matrix[position[a.doc.id]].multiply(matrix[position[b.doc.id]]).sum())
            lines.append(_line(a, b, score, terms))
        return lines
    matrix = matcher.transform([d.doc for d in left + right])
    problem = FieldProblem(matrix[: len(left)], matrix[len(left) :], k=args.top_k)
    found: list[tuple[Document, Document, float]] = []
    for start, stop in problem.blocks(matcher.block_size):
        block = problem.block(start, stop)
        for offset in range(stop - start):
            for j, score in zip(block.row_index[offset], block.row_score[offset], strict=True):
                if j >= 0:
                    found.append((left[start + offset], right[int(j)], float(score)))
    explained = matcher.explain_many([(a.doc, b.doc) for a, b, _ in found])
    return [_line(a, b, s, t) for (a, b, s), t in zip(found, explained, strict=True)]


def _by_key(documents: Sequence[Document]) -> dict[str, Document]:
    return {json.dumps(d.key): d for d in documents}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grantmatch match", description="Score two JSON Lines sets of documents."
    )
    parser.add_argument("left", help="JSON Lines file of left documents")
    parser.add_argument("right", help="JSON Lines file of right documents")
    parser.add_argument("--top-k", type=int, default=20, help="right documents per left one")
    parser.add_argument("--pairs", help="score exactly these {left, right} pairs")
    parser.add_argument(
        "--fit", choices=("both", "left", "right"), default="both",
        help="documents the vocabulary is fitted on (default: both files)",
    )  # fmt: skip
    parser.add_argument("--terms", type=int, default=6, help="explanation terms per pair")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command; returns the exit status."""
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    if args.top_k <= 0:
        print("grantmatch match: --top-k must be positive", file=sys.stderr)
        return INPUT_ERROR
    try:
        lines = match_files(args)
    except InputError as error:
        print(f"grantmatch match: {error}", file=sys.stderr)
        return INPUT_ERROR
    out.write("".join(line + "\n" for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
