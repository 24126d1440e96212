"""Delivering email: SMTP when configured, else a folder of .eml files in the instance.

Messages are queued as rows of ``outgoing_emails`` by the services, in the transaction
that causes them (see core/services/emails.py); :func:`deliver` hands one row to the
backend. Delivery is at least once: a crash between sending and recording it can send
a message twice, never lose one.
"""

from __future__ import annotations

import os
import smtplib
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from core.config import Settings
from core.models import OutgoingEmail


class MailBackend(Protocol):
    def send(self, message: EmailMessage, *, message_id: int) -> None: ...


@dataclass(frozen=True)
class FolderBackend:
    """Writes each message to ``<folder>/<id>.eml`` (the embedded default and the demo)."""

    folder: Path

    def send(self, message: EmailMessage, *, message_id: int) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{message_id:08d}.eml"
        partial = target.with_suffix(".part")
        partial.write_bytes(message.as_bytes(policy=policy.SMTP))
        os.replace(partial, target)  # readers never see half a message


@dataclass(frozen=True)
class SmtpBackend:
    """Sends through an SMTP server: smtp://user:password@host:587 (STARTTLS when the
    server offers it) or smtps://user:password@host:465."""

    url: str
    timeout: float = 30.0

    def send(self, message: EmailMessage, *, message_id: int) -> None:
        parts = urlsplit(self.url)
        host = parts.hostname or "localhost"
        if parts.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, parts.port or 465, timeout=self.timeout)
        else:
            client = smtplib.SMTP(host, parts.port or 587, timeout=self.timeout)
        with client:
            if parts.scheme == "smtp":
                client.ehlo()
                if client.has_extn("starttls"):
                    client.starttls()
                    client.ehlo()
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(message)


def backend_for(settings: Settings) -> MailBackend:
    if settings.smtp_url:
        return SmtpBackend(settings.smtp_url)
    return FolderBackend(settings.mail_path)


def build_message(row: OutgoingEmail, *, sender: str) -> EmailMessage:
    """The RFC 5322 message for a queued row (UTF-8 plain text)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = make_msgid(idstring=f"grantmatch-{row.id}")
    message["Content-Language"] = row.locale.value
    for name, value in sorted(row.headers.items()):
        message[name] = str(value)
    message.set_content(row.body)
    return message


@dataclass(frozen=True)
class StoredMail:
    """A message found in the mail folder (for the local outbox page)."""

    name: str
    to: str
    subject: str
    date: datetime | None
    body: str


def read_folder(folder: Path, *, limit: int = 100) -> list[StoredMail]:
    """The newest messages of the mail folder first."""
    if not folder.is_dir():
        return []
    found: list[StoredMail] = []
    for path in sorted(folder.glob("*.eml"), reverse=True)[:limit]:
        found.append(read_message(path))
    return found


def read_message(path: Path) -> StoredMail:
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    body_part = parsed.get_body(preferencelist=("plain",))
    body = body_part.get_content() if body_part is not None else ""
    date = parsed["Date"]
    return StoredMail(
        name=path.stem,
        to=str(parsed["To"] or ""),
        subject=str(parsed["Subject"] or ""),
        date=date.datetime if date is not None else None,
        body=str(body),
    )
