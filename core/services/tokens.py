"""Personal access tokens for the API: created and revoked by their owner, stored hashed,
scoped (read, write, officer), optionally expiring.

The secret is ``gm_`` followed by 32 random bytes (URL-safe base64). Only its SHA-256 is
stored: the secret has 256 bits of entropy, so a fast hash is enough (no salt or key
stretching, which protect low-entropy passwords), and an indexed equality lookup finds
the token in one query. The first 8 characters are kept in clear as ``prefix`` so that
the owner can tell tokens apart. Creation and revocation are recorded in the audit trail.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import DomainError, InvalidInput, Message, NotFound
from core.models import ApiToken, Role, User, utcnow
from core.services import audit
from core.services.accounts import normalise_email

READ, WRITE, OFFICER = "read", "write", "officer"
SCOPES = (READ, WRITE, OFFICER)
SECRET_PREFIX = "gm_"
PREFIX_LENGTH = 8
MAX_NAME_LENGTH = 100
MAX_ACTIVE_TOKENS = 20
EXPIRY_DAYS = (30, 90, 365)
# Writing last_used_at on every request would turn every read into a write; a minute's
# precision is all an owner needs to tell whether a token is still in use.
LAST_USED_PRECISION = timedelta(minutes=1)


class InvalidToken(DomainError):
    """The presented token is unknown, revoked or expired (the message says which)."""


@dataclass(frozen=True)
class NewToken:
    """A token just created, with its secret: the only time the secret is known."""

    token: ApiToken
    secret: str


def hash_secret(secret: str) -> str:
    """The SHA-256 of ``secret`` in hex: what is stored and looked up."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def allowed_scopes(user: User) -> tuple[str, ...]:
    """The scopes ``user`` may give a token: officer only for officers and admins."""
    if user.role in (Role.OFFICER, Role.ADMIN):
        return SCOPES
    return (READ, WRITE)


def effective_scopes(token: ApiToken, user: User) -> frozenset[str]:
    """The token's scopes that its owner still holds (an officer who became a registrant
    loses the officer scope of the tokens made before)."""
    return frozenset(token.scopes) & frozenset(allowed_scopes(user))


def is_active(token: ApiToken, now: datetime | None = None) -> bool:
    """Neither revoked nor expired at ``now``."""
    now = now or utcnow()
    return token.revoked_at is None and (token.expires_at is None or token.expires_at > now)


def _active_count(session: Session, user: User, now: datetime) -> int:
    query = (
        select(func.count())
        .select_from(ApiToken)
        .where(
            ApiToken.user_id == user.id,
            ApiToken.revoked_at.is_(None),
            (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now),
        )
    )
    return session.scalar(query) or 0


def create_token(
    session: Session,
    *,
    user: User,
    name: str,
    scopes: list[str],
    expires_in_days: int | None,
    now: datetime | None = None,
) -> NewToken:
    """Create a token for ``user`` and return it with its secret (never stored).

    InvalidInput with a message per bad field (name, scopes, expires_in_days); nothing is
    written then.
    """
    now = now or utcnow()
    errors: dict[str, str] = {}
    name = " ".join(name.split())
    if not name:
        errors["name"] = Message("Give the token a name, such as the script that uses it.")
    elif len(name) > MAX_NAME_LENGTH:
        errors["name"] = Message(
            "Keep the name under %(length)s characters.", length=MAX_NAME_LENGTH
        )
    chosen = list(dict.fromkeys(scopes))
    allowed = allowed_scopes(user)
    if not chosen:
        errors["scopes"] = Message("Choose at least one scope.")
    elif any(scope not in allowed for scope in chosen):
        errors["scopes"] = Message("Choose scopes from: %(scopes)s.", scopes=", ".join(allowed))
    if expires_in_days is not None and expires_in_days not in EXPIRY_DAYS:
        errors["expires_in_days"] = Message("Choose an expiry from the list.")
    if not errors and _active_count(session, user, now) >= MAX_ACTIVE_TOKENS:
        errors["name"] = Message(
            "You have %(count)s active tokens, the most allowed: revoke one first.",
            count=MAX_ACTIVE_TOKENS,
        )
    if errors:
        raise InvalidInput("invalid token", errors)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_secret(secret),
        prefix=secret[:PREFIX_LENGTH],
        scopes=[scope for scope in SCOPES if scope in chosen],
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor_id=user.id,
        action="api_token.created",
        subject_type="api_token",
        subject_id=token.id,
        details={
            "prefix": token.prefix,
            "scopes": token.scopes,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        },
    )
    return NewToken(token=token, secret=secret)


def account_for(session: Session, *, email: str) -> User:
    """The account with ``email`` (to make a token for it from the command line);
    NotFound otherwise."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound(Message("There is no account %(email)s.", email=email))
    return user


def list_tokens(session: Session, *, user: User) -> list[ApiToken]:
    """The user's tokens, revoked ones too, newest first."""
    query = (
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(session.scalars(query))


def revoke_token(
    session: Session, *, user: User, token_id: int, now: datetime | None = None
) -> ApiToken:
    """Revoke one of the user's tokens. Safe to run twice (the first revocation stays).

    NotFound when the token is not the user's: another account's tokens do not exist for
    them.
    """
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(Message("There is no token %(id)s.", id=token_id))
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        audit.record(
            session,
            actor_id=user.id,
            action="api_token.revoked",
            subject_type="api_token",
            subject_id=token.id,
            details={"prefix": token.prefix},
        )
    return token


def authenticate(
    session: Session, *, secret: str, now: datetime | None = None
) -> tuple[ApiToken, User]:
    """The active token whose secret is ``secret`` and its owner, its last use noted.

    InvalidToken (saying unknown, revoked or expired) otherwise.
    """
    now = now or utcnow()
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        raise InvalidToken(Message("The token is not valid."))
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    if token is None:
        raise InvalidToken(Message("The token is not valid."))
    if token.revoked_at is not None:
        raise InvalidToken(Message("The token was revoked."))
    if token.expires_at is not None and token.expires_at <= now:
        raise InvalidToken(Message("The token has expired."))
    user = session.get(User, token.user_id)
    if user is None:  # deleted meanwhile: its tokens go with it
        raise InvalidToken(Message("The token is not valid."))
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        token.last_used_at = now
    return token, user
