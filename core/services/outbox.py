"""The rematch outbox: requests written in the same transaction as the profile change.

A dispatcher later hands pending requests to the workers (or runs them in-process on the
embedded default) and marks them sent, so a change is never lost when the broker is down.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.models import RematchRequest, RequestStatus, utcnow


def request_rematch(session: Session, *, profile_id: int, reason: str) -> RematchRequest:
    """Record that ``profile_id`` must be rematched; coalesces with a pending request."""
    pending = session.scalar(
        select(RematchRequest).where(
            RematchRequest.profile_id == profile_id,
            RematchRequest.status == RequestStatus.PENDING,
        )
    )
    if pending is not None:
        pending.reason = reason
        return pending
    request = RematchRequest(profile_id=profile_id, reason=reason)
    session.add(request)
    session.flush()
    return request


def pending_requests(session: Session, *, limit: int = 100) -> list[RematchRequest]:
    """The oldest pending requests, at most ``limit``."""
    query = (
        select(RematchRequest)
        .where(RematchRequest.status == RequestStatus.PENDING)
        .order_by(RematchRequest.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def mark_sent(session: Session, request_ids: Sequence[int]) -> None:
    """Mark requests as handed to the broker. Safe to run twice."""
    if not request_ids:
        return
    session.execute(
        update(RematchRequest)
        .where(
            RematchRequest.id.in_(request_ids),
            RematchRequest.status == RequestStatus.PENDING,
        )
        .values(status=RequestStatus.SENT, sent_at=utcnow())
    )


def mark_done(session: Session, request: RematchRequest) -> None:
    """Close ``request`` and every older open request for the same profile (coalescing)."""
    session.execute(
        update(RematchRequest)
        .where(
            RematchRequest.profile_id == request.profile_id,
            RematchRequest.id <= request.id,
            RematchRequest.status.in_([RequestStatus.PENDING, RequestStatus.SENT]),
        )
        .values(status=RequestStatus.DONE, processed_at=utcnow())
    )
    request.status = RequestStatus.DONE
