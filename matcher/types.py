"""Small frozen dataclasses at the matcher's edges (never ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass

JAPAN = "JP"
CANADA = "CA"


@dataclass(frozen=True)
class ProfileDoc:
    """A profile as the matcher sees it."""

    id: int
    country: str
    kind: str
    fields: tuple[str, ...]
    texts: tuple[str, ...]
    lang: str | None = None
    available: bool = True

    def __post_init__(self) -> None:
        if self.country not in (JAPAN, CANADA):
            raise ValueError(f"profile {self.id}: country must be JP or CA, got {self.country!r}")

    @property
    def text(self) -> str:
        return "\n".join(self.texts)


@dataclass(frozen=True)
class PairScore:
    """One cross-border pair in one field, with its rank from each side (1 = best)."""

    field: str
    jp_id: int
    ca_id: int
    score: float
    rank_jp: int
    rank_ca: int
    # (Japanese side's words, Canadian side's words) for each contributing term.
    terms: tuple[tuple[str, str], ...]
