"""The seven MOC fields."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.models import Field


def list_fields(session: Session) -> list[Field]:
    """All MOC fields in the order the memorandum lists them."""
    return list(session.scalars(select(Field).order_by(Field.position)))


def get_field(session: Session, code: str) -> Field:
    """The field with ``code``; NotFound otherwise."""
    field = session.scalar(select(Field).where(Field.code == code))
    if field is None:
        raise NotFound(f"no MOC field {code!r}")
    return field
