"""Background tasks: ids in, one unit of work, one service call. Idempotent (acks_late)."""

from __future__ import annotations

import logging

from celery import shared_task

from core.db import session_scope
from core.services import matching
from workers import current_settings

log = logging.getLogger(__name__)


@shared_task(name="matching.rematch_profile")
def rematch_profile(request_id: int) -> bool:
    """Carry out one rematch request. Safe to run twice."""
    settings = current_settings()
    with session_scope() as session:
        return matching.process_rematch_request(
            session, request_id=request_id, top_k=settings.match_top_k
        )


@shared_task(name="matching.full_rematch")
def full_rematch() -> int:
    """Refit and rematch every profile; returns the new live run's id."""
    settings = current_settings()
    with session_scope() as session:
        run = matching.run_full_rematch(session, top_k=settings.match_top_k)
        return run.id
