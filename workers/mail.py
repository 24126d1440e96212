"""Delivering queued mail and sending digests: tasks on Celery, in-process without it."""

from __future__ import annotations

import logging

from celery import shared_task

from core.config import Settings
from core.db import session_scope
from core.links import Links
from core.mail import backend_for
from core.models import utcnow
from core.services import digests, emails
from workers import current_settings

log = logging.getLogger(__name__)


def links_for(settings: Settings) -> Links:
    return Links(base_url=settings.base_url, secret_key=settings.secret_key)


def deliver_pending_mail(settings: Settings, *, limit: int = 200) -> int:
    """Send queued messages, one transaction each; returns how many were sent."""
    backend = backend_for(settings)
    with session_scope() as session:
        ids = emails.pending_ids(session, limit=limit)
    sent = 0
    for email_id in ids:
        with session_scope() as session:
            sent += emails.deliver(
                session, email_id=email_id, backend=backend, sender=settings.mail_sender
            )
    return sent


@shared_task(name="mail.deliver")
def deliver_mail() -> int:
    """Beat task (and kicked after each commit that queues mail): deliver queued mail."""
    return deliver_pending_mail(current_settings())


@shared_task(name="mail.send_digests")
def send_digests() -> int:
    """Beat task: queue the digests that are due, then deliver them."""
    settings = current_settings()
    with session_scope() as session:
        queued = digests.send_due_digests(session, now=utcnow(), links=links_for(settings))
    log.info("%s digests queued", queued)
    deliver_pending_mail(settings)
    return queued
