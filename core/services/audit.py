"""The append-only audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.models import AuditEvent


def record(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    subject_type: str = "",
    subject_id: int | str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the trail; it is written with the caller's unit of work."""
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        details=details or {},
    )
    session.add(event)
    return event
