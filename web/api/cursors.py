"""Cursor pagination: a cursor is the sort key of the last item of a page, so the next
page starts strictly after it (keyset pagination). Unlike page numbers, an insertion or a
deletion between two requests neither repeats nor skips the items that stay.

A cursor is URL-safe base64 of a small JSON document naming the listing it belongs to and
the key; it is opaque to clients (its format may change) but not secret, so it is not
signed: a forged cursor only chooses where a listing the caller may read starts.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from web.api.problems import invalid_request

T = TypeVar("T")
Key = tuple[Any, ...]


def encode(listing: str, key: Sequence[Any], **context: Any) -> str:
    """The cursor for the item with sort ``key`` in ``listing``."""
    document = {"l": listing, "k": list(key), **context}
    raw = json.dumps(document, separators=(",", ":"), ensure_ascii=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, listing: str, shape: Sequence[type]) -> tuple[Key, dict[str, Any]]:
    """The key (of the types in ``shape``) and context of a cursor of ``listing``.

    422 naming the ``cursor`` parameter when it was not issued for this listing.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        document = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        document = None
    key = document.get("k") if isinstance(document, dict) else None
    if (
        not isinstance(document, dict)
        or document.get("l") != listing
        or not isinstance(key, list)
        or len(key) != len(shape)
        # bool is an int in Python, never a key here.
        or any(isinstance(v, bool) or not _fits(v, t) for v, t in zip(key, shape, strict=True))
    ):
        raise invalid_request(
            [{"field": "cursor", "message": "Use the next_cursor of this very listing."}]
        )
    context = {k: v for k, v in document.items() if k not in ("l", "k")}
    return tuple(t(v) for v, t in zip(key, shape, strict=True)), context


def _fits(value: Any, kind: type) -> bool:
    if kind is float:
        return isinstance(value, int | float) and value == value and abs(value) < 1e300
    if kind is int:
        return isinstance(value, int) and abs(value) < 2**63
    return isinstance(value, kind)


def page_after(
    items: Sequence[T], key: Callable[[T], Key], after: Key | None, limit: int
) -> tuple[list[T], Key | None]:
    """Up to ``limit`` items whose key comes after ``after`` (all of them from the first
    when None), in key order, and the key to continue from (None on the last page)."""
    ordered = sorted(items, key=key)
    remaining = ordered if after is None else [item for item in ordered if key(item) > after]
    page = remaining[:limit]
    following = key(page[-1]) if len(remaining) > limit else None
    return page, following
