from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Conflict, InvalidInput
from core.models import AuditEvent, Role
from core.services import accounts
from tests.factories import make_user


def test_create_user_normalises_email_and_hashes_password(session: Session) -> None:
    user = make_user(session, email="  Someone@Example.ORG ", password="long enough pw")
    assert user.email == "someone@example.org"
    assert user.password_hash != "long enough pw"
    assert user.role == Role.REGISTRANT


def test_create_user_refuses_a_taken_email(session: Session) -> None:
    make_user(session, email="dup@example.org")
    with pytest.raises(Conflict):
        make_user(session, email="DUP@example.org")


def test_create_user_reports_each_bad_field(session: Session) -> None:
    with pytest.raises(InvalidInput) as raised:
        accounts.create_user(session, email="not-an-email", password="short")
    assert set(raised.value.errors) == {"email", "password"}


def test_authenticate_accepts_the_right_password_and_audits_failures(session: Session) -> None:
    user = make_user(session, email="auth@example.org", password="right password")
    assert (
        accounts.authenticate(session, email="AUTH@example.org", password="right password") == user
    )
    assert (
        accounts.authenticate(session, email="auth@example.org", password="wrong password") is None
    )
    failures = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "login.failed", AuditEvent.actor_id == user.id
        )
    ).all()
    assert len(failures) == 1
