"""Hand pending outbox requests to the workers, or run them in-process without a broker."""

from __future__ import annotations

import logging

from celery import shared_task

from core.config import Settings
from core.db import session_scope
from core.services import outbox
from workers import current_settings, mail, tasks

log = logging.getLogger(__name__)


def dispatch_pending(settings: Settings, *, limit: int = 500) -> int:
    """Process (embedded default) or enqueue (broker) pending requests; returns the count.

    With a broker, a request is marked sent only after the broker accepted it; if the
    broker is down the request stays pending and the next dispatch sends it.
    """
    with session_scope() as session:
        request_ids = [r.id for r in outbox.pending_requests(session, limit=limit)]
    if not settings.uses_broker:
        for request_id in request_ids:
            tasks.rematch_profile(request_id)
        return len(request_ids)
    sent: list[int] = []
    try:
        for request_id in request_ids:
            tasks.rematch_profile.apply_async((request_id,), retry=False)
            sent.append(request_id)
    except Exception:  # the broker is unreachable: keep the rest pending for next time
        log.warning(
            "broker unavailable; %s rematch requests stay pending", len(request_ids) - len(sent)
        )
    with session_scope() as session:
        outbox.mark_sent(session, sent)
    return len(sent)


@shared_task(name="outbox.dispatch")
def dispatch() -> int:
    """Beat task: send pending rematch requests to the broker."""
    return dispatch_pending(current_settings())


def after_commit(settings: Settings) -> None:
    """What a web request runs once its unit of work is committed: hand over the rematch
    requests and the mail it queued (in-process on the embedded default). With a broker,
    anything the broker refuses now is picked up by the beat tasks."""
    dispatch_pending(settings)
    if not settings.uses_broker:
        mail.deliver_pending_mail(settings)
        return
    try:
        mail.deliver_mail.apply_async(retry=False)
    except Exception:  # the broker is down; the beat task delivers the mail later
        log.warning("broker unavailable; queued mail will be delivered by the beat task")
