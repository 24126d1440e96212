"""The mail outbox: messages queued in the transaction that causes them, then delivered.

A message is rendered when it is queued, in the recipient's language, so delivery needs
nothing but the row (and works the same from a web request or a worker).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from core import i18n
from core.mail import MailBackend, build_message
from core.models import EmailStatus, Locale, OutgoingEmail, User, utcnow

MAX_ATTEMPTS = 5


def queue_email(
    session: Session,
    *,
    to_address: str,
    locale: Locale | str,
    kind: str,
    user_id: int | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> OutgoingEmail:
    """Render ``email/<kind>.txt`` in ``locale`` and queue it for ``to_address``.

    The template's first line is the subject, the rest (after a blank line) the body.
    """
    language = i18n.supported(str(Locale(locale).value))
    rendered = i18n.render_text(f"email/{kind}.txt", language, **context)
    subject, _, body = rendered.partition("\n")
    row = OutgoingEmail(
        user_id=user_id,
        to_address=to_address,
        kind=kind,
        locale=Locale(language),
        subject=subject.strip(),
        body=body.lstrip("\n"),
        headers=headers or {},
    )
    session.add(row)
    session.flush()
    return row


def queue_for_user(
    session: Session,
    user: User,
    kind: str,
    *,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> OutgoingEmail:
    """Queue ``kind`` for ``user`` at their address, in their language."""
    return queue_email(
        session,
        to_address=user.email,
        locale=user.locale,
        kind=kind,
        user_id=user.id,
        headers=headers,
        user=user,
        **context,
    )


def pending_ids(session: Session, *, limit: int = 200) -> list[int]:
    query = (
        select(OutgoingEmail.id)
        .where(OutgoingEmail.status == EmailStatus.PENDING)
        .order_by(OutgoingEmail.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def deliver(session: Session, *, email_id: int, backend: MailBackend, sender: str) -> bool:
    """Send one queued message; True if it was sent now. Safe to run twice (the row is
    locked, and a sent row is skipped). A failure is recorded; after MAX_ATTEMPTS the
    message is marked failed."""
    row = session.get(OutgoingEmail, email_id, with_for_update=True)
    if row is None or row.status != EmailStatus.PENDING:
        return False
    row.attempts += 1
    try:
        backend.send(build_message(row, sender=sender), message_id=row.id)
    except OSError as error:  # smtplib errors and refused connections are OSErrors
        row.error = repr(error)
        if row.attempts >= MAX_ATTEMPTS:
            row.status = EmailStatus.FAILED
        return False
    row.status = EmailStatus.SENT
    row.sent_at = utcnow()
    row.error = None
    return True


def forget_user(session: Session, *, user_id: int, addresses: Sequence[str]) -> None:
    """Delete every message to or about an account (when it is deleted)."""
    session.execute(
        delete(OutgoingEmail).where(
            or_(OutgoingEmail.user_id == user_id, OutgoingEmail.to_address.in_(addresses))
        )
    )
