"""The mail outbox: messages rendered in the recipient's language when queued, delivered
once to a folder or a real SMTP server, failures kept for a retry."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message as EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from core.mail import FolderBackend, SmtpBackend, read_folder
from core.models import EmailStatus, Locale
from core.services import emails
from core.services.emails import MAX_ATTEMPTS
from tests.conftest import free_port
from tests.factories import make_user

SENDER = "Partner Matching <no-reply@grantmatch.example>"


class Inbox:
    """A real SMTP server (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 Message accepted"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_a_message_is_rendered_in_the_recipients_language(session: Session) -> None:
    user = make_user(session, locale=Locale.FR, display_name="Camille")
    row = emails.queue_for_user(session, user, "verify_email", link="https://x.example/verify/t")
    assert row.locale == Locale.FR
    assert "Camille" in row.body and "https://x.example/verify/t" in row.body
    assert row.subject and "\n" not in row.subject


def test_folder_delivery_writes_each_message_once(session: Session, tmp_path: Path) -> None:
    user = make_user(session)
    row = emails.queue_for_user(session, user, "reset_password", link="https://x.example/r/t")
    backend = FolderBackend(tmp_path)
    assert emails.deliver(session, email_id=row.id, backend=backend, sender=SENDER)
    assert not emails.deliver(session, email_id=row.id, backend=backend, sender=SENDER)
    stored = read_folder(tmp_path)
    assert len(stored) == 1 and stored[0].to == user.email
    assert "https://x.example/r/t" in stored[0].body
    assert row.status == EmailStatus.SENT and row.sent_at is not None


def test_smtp_delivery_reaches_a_real_server(
    session: Session, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    user = make_user(session, locale=Locale.JA, display_name="田中")
    row = emails.queue_for_user(session, user, "verify_email", link="https://x.example/v/t")
    backend = SmtpBackend(f"smtp://127.0.0.1:{port}")
    assert emails.deliver(session, email_id=row.id, backend=backend, sender=SENDER)
    assert len(inbox.messages) == 1
    received = inbox.messages[0]
    assert received["To"] == user.email
    body = received.get_payload(decode=True)
    assert isinstance(body, bytes) and "田中" in body.decode("utf-8")


def test_an_unreachable_server_keeps_the_message_then_gives_up(session: Session) -> None:
    user = make_user(session)
    row = emails.queue_for_user(session, user, "verify_email", link="https://x.example/v/t")
    backend = SmtpBackend(f"smtp://127.0.0.1:{free_port()}", timeout=2)
    for _ in range(MAX_ATTEMPTS - 1):
        assert not emails.deliver(session, email_id=row.id, backend=backend, sender=SENDER)
        assert row.status == EmailStatus.PENDING and row.error
    assert not emails.deliver(session, email_id=row.id, backend=backend, sender=SENDER)
    assert row.status == EmailStatus.FAILED
    assert row.id not in emails.pending_ids(session)
