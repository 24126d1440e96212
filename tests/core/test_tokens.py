"""Personal access tokens: creation (hashed, scoped), authentication, revocation, expiry."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidInput, NotFound
from core.models import ApiToken, AuditEvent, Role, utcnow
from core.services import accounts, tokens
from core.services.tokens import InvalidToken
from tests.factories import make_user


def test_create_token_stores_only_the_hash_and_returns_the_secret_once(
    session: Session,
) -> None:
    user = make_user(session)
    new = tokens.create_token(
        session, user=user, name="  Nightly   export ", scopes=["write", "read"], expires_in_days=90
    )
    assert new.secret.startswith("gm_") and len(new.secret) > 40
    token = session.get(ApiToken, new.token.id)
    assert token is not None
    assert token.token_hash == hashlib.sha256(new.secret.encode()).hexdigest()
    assert token.prefix == new.secret[:8]
    assert token.name == "Nightly export"
    assert token.scopes == ["read", "write"]  # in the canonical order
    assert token.expires_at is not None
    assert timedelta(days=89) < token.expires_at - utcnow() <= timedelta(days=90)
    stored = [token.name, token.token_hash, token.prefix, *token.scopes]
    assert new.secret not in stored
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token.created"))
    assert event is not None and event.actor_id == user.id
    assert new.secret not in str(event.details)


@pytest.mark.parametrize(
    ("name", "scopes", "days", "field"),
    [
        ("", ["read"], None, "name"),
        ("x" * 101, ["read"], None, "name"),
        ("ok", [], None, "scopes"),
        ("ok", ["admin"], None, "scopes"),
        ("ok", ["officer"], None, "scopes"),  # a registrant may not hold it
        ("ok", ["read"], 7, "expires_in_days"),
    ],
)
def test_create_token_refuses_bad_input_with_a_message_per_field(
    session: Session, name: str, scopes: list[str], days: int | None, field: str
) -> None:
    user = make_user(session)
    with pytest.raises(InvalidInput) as raised:
        tokens.create_token(session, user=user, name=name, scopes=scopes, expires_in_days=days)
    assert field in raised.value.errors
    assert session.scalar(select(ApiToken).where(ApiToken.user_id == user.id)) is None


def test_officers_may_give_the_officer_scope(session: Session) -> None:
    officer = make_user(session, role=Role.OFFICER)
    new = tokens.create_token(
        session, user=officer, name="console", scopes=["officer", "read"], expires_in_days=None
    )
    assert new.token.scopes == ["read", "officer"]
    assert new.token.expires_at is None


def test_authenticate_finds_the_token_and_notes_its_use_once_a_minute(session: Session) -> None:
    user = make_user(session)
    new = tokens.create_token(session, user=user, name="t", scopes=["read"], expires_in_days=30)
    now = utcnow()
    token, owner = tokens.authenticate(session, secret=new.secret, now=now)
    assert owner.id == user.id and token.last_used_at == now
    tokens.authenticate(session, secret=new.secret, now=now + timedelta(seconds=30))
    assert token.last_used_at == now  # not a write per request
    later = now + timedelta(minutes=2)
    tokens.authenticate(session, secret=new.secret, now=later)
    assert token.last_used_at == later


@pytest.mark.parametrize("secret", ["", "gm_unknown", "ghp_not_ours", "gm_" + "x" * 300])
def test_authenticate_refuses_unknown_tokens(session: Session, secret: str) -> None:
    with pytest.raises(InvalidToken, match="not valid"):
        tokens.authenticate(session, secret=secret)


def test_revoked_and_expired_tokens_no_longer_authenticate(session: Session) -> None:
    user = make_user(session)
    revoked = tokens.create_token(session, user=user, name="a", scopes=["read"], expires_in_days=30)
    tokens.revoke_token(session, user=user, token_id=revoked.token.id)
    with pytest.raises(InvalidToken, match="revoked"):
        tokens.authenticate(session, secret=revoked.secret)
    long_ago = utcnow() - timedelta(days=31)
    expired = tokens.create_token(
        session, user=user, name="b", scopes=["read"], expires_in_days=30, now=long_ago
    )
    assert not tokens.is_active(expired.token)
    with pytest.raises(InvalidToken, match="expired"):
        tokens.authenticate(session, secret=expired.secret)


def test_revoke_is_safe_twice_and_only_for_the_owner(session: Session) -> None:
    owner, other = make_user(session), make_user(session)
    new = tokens.create_token(session, user=owner, name="a", scopes=["read"], expires_in_days=None)
    with pytest.raises(NotFound):
        tokens.revoke_token(session, user=other, token_id=new.token.id)
    assert new.token.revoked_at is None
    first = tokens.revoke_token(session, user=owner, token_id=new.token.id).revoked_at
    assert tokens.revoke_token(session, user=owner, token_id=new.token.id).revoked_at == first
    revocations = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "api_token.revoked", AuditEvent.subject_id == str(new.token.id)
        )
    ).all()
    assert len(revocations) == 1


def test_a_demoted_officer_loses_the_officer_scope_of_old_tokens(session: Session) -> None:
    officer = make_user(session, role=Role.OFFICER)
    new = tokens.create_token(
        session, user=officer, name="a", scopes=["read", "officer"], expires_in_days=None
    )
    assert tokens.effective_scopes(new.token, officer) == {"read", "officer"}
    officer.role = Role.REGISTRANT
    assert tokens.effective_scopes(new.token, officer) == {"read"}


def test_active_tokens_are_limited_per_account(session: Session) -> None:
    user = make_user(session)
    for number in range(tokens.MAX_ACTIVE_TOKENS):
        tokens.create_token(
            session, user=user, name=f"t{number}", scopes=["read"], expires_in_days=None
        )
    with pytest.raises(InvalidInput, match="invalid token"):
        tokens.create_token(
            session, user=user, name="one more", scopes=["read"], expires_in_days=None
        )
    first = tokens.list_tokens(session, user=user)[-1]
    tokens.revoke_token(session, user=user, token_id=first.id)
    tokens.create_token(session, user=user, name="one more", scopes=["read"], expires_in_days=None)


def test_deleting_the_account_deletes_its_tokens(session: Session) -> None:
    user = make_user(session, password="correct horse battery")
    new = tokens.create_token(session, user=user, name="a", scopes=["read"], expires_in_days=None)
    token_id = new.token.id
    accounts.delete_account(session, user=user, password="correct horse battery")
    session.expire_all()
    assert session.get(ApiToken, token_id) is None
    with pytest.raises(InvalidToken):
        tokens.authenticate(session, secret=new.secret)


def test_account_for_finds_accounts_by_email_in_any_case(session: Session) -> None:
    user = make_user(session, email="Case@Tests.Example")
    assert tokens.account_for(session, email=" CASE@tests.example ").id == user.id
    with pytest.raises(NotFound):
        tokens.account_for(session, email="nobody@tests.example")
