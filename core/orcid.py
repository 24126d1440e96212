"""ORCID iD validation: format and ISO 7064 MOD 11-2 check character.

An ORCID iD is 16 characters, shown as four hyphen-separated groups of four
("0000-0002-1825-0097"); the last one is a check character, a digit or "X" (for 10).
See https://support.orcid.org/hc/en-us/articles/360006897674.

The issued ranges of iDs are not checked: any well-formed iD with a right check character is
accepted, and nothing here asks orcid.org whether it exists.
"""

from __future__ import annotations

import re
import unicodedata

_PREFIX = re.compile(r"^(?:https?://)?(?:www\.)?orcid\.org/", re.IGNORECASE)
_HYPHENATED = re.compile(r"[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X]")
_BARE = re.compile(r"[0-9]{15}[0-9X]")
_BASE = re.compile(r"[0-9]{15}")


def orcid_checksum(base_digits: str) -> str:
    """The check character ("0"-"9" or "X") for the first 15 digits of an ORCID iD.

    Raises ``ValueError`` unless ``base_digits`` is exactly 15 ASCII digits.
    """
    if not _BASE.fullmatch(base_digits):
        raise ValueError(f"expected 15 digits, got {base_digits!r}")
    total = 0
    for digit in base_digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def normalise_orcid(raw: str) -> str | None:
    """The canonical "0000-0002-1825-0097" form of ``raw``, or None when it is not an iD.

    Accepts the bare iD with or without hyphens, or its URL ("https://orcid.org/...",
    "http://...", "orcid.org/...", optionally "www." and a trailing slash), surrounded by spaces,
    with a lower-case "x" check character, and with full-width characters (as typed with a
    Japanese input method). Returns None for any other shape or a wrong check character.
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    text = _PREFIX.sub("", text, count=1).removesuffix("/").upper()
    if _HYPHENATED.fullmatch(text):
        text = text.replace("-", "")
    elif not _BARE.fullmatch(text):
        return None
    if orcid_checksum(text[:15]) != text[15]:
        return None
    return "-".join(text[i : i + 4] for i in range(0, 16, 4))
