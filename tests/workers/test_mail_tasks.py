"""Mail tasks called directly: queued mail is delivered to the folder once; due digests
are queued and delivered."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

import workers
from core.config import Settings
from core.mail import read_folder
from core.models import EmailStatus, OutgoingEmail, User, utcnow
from core.services import demo, emails
from tests.factories import make_user
from workers import mail


def test_deliver_mail_sends_each_queued_message_once(settings: Settings, session: Session) -> None:
    workers.configure(settings)
    user = make_user(session, email="task-mail@tests.example")
    row = emails.queue_for_user(session, user, "verify_email", link="https://x.example/v/1")
    assert mail.deliver_mail() >= 1
    assert mail.deliver_mail() == 0
    session.refresh(row)
    assert row.status == EmailStatus.SENT
    delivered = [m for m in read_folder(settings.mail_path, limit=10_000) if m.to == user.email]
    assert len(delivered) == 1


def test_send_digests_queues_and_delivers_the_due_ones(
    settings: Settings, session: Session
) -> None:
    workers.configure(settings)
    researcher = session.scalar(select(User).where(User.email == demo.DEMO_ACCOUNTS[0].email))
    assert researcher is not None
    researcher.last_digest_at = None
    researcher.created_at = utcnow() - timedelta(days=30)
    session.flush()
    assert mail.send_digests() >= 1
    digest = session.scalar(
        select(OutgoingEmail).where(
            OutgoingEmail.user_id == researcher.id, OutgoingEmail.kind == "digest"
        )
    )
    assert digest is not None and digest.status == EmailStatus.SENT
    assert mail.send_digests() == 0  # not due again for a week
