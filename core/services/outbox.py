"""The rematch outbox: requests written in the same transaction as the profile change.

A dispatcher later hands pending requests to the workers (or runs them in-process on the
embedded default) and marks them sent, so a change is never lost when the broker is down.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import or_, select, update
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


# A request handed to the broker but still not done after this long was probably lost
# (Redis restarted without its data): it is sent again; the task is idempotent.
RESEND_AFTER = timedelta(minutes=10)


def pending_requests(session: Session, *, limit: int = 100) -> list[RematchRequest]:
    """The oldest requests to send: pending ones, and sent ones not done after
    RESEND_AFTER; at most ``limit``."""
    stale = utcnow() - RESEND_AFTER
    query = (
        select(RematchRequest)
        .where(
            or_(
                RematchRequest.status == RequestStatus.PENDING,
                (RematchRequest.status == RequestStatus.SENT) & (RematchRequest.sent_at < stale),
            )
        )
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
            RematchRequest.status.in_([RequestStatus.PENDING, RequestStatus.SENT]),
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
