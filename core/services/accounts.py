"""Accounts: creation and authentication."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from core.errors import Conflict, InvalidInput, NotFound
from core.models import Locale, Role, User, utcnow
from core.services import audit

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10


def normalise_email(email: str) -> str:
    """Trimmed and lower-cased, the form emails are stored and compared in."""
    return email.strip().lower()


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role = Role.REGISTRANT,
    display_name: str = "",
    locale: Locale = Locale.EN,
    verified: bool = False,
    actor_id: int | None = None,
) -> User:
    """Create an account; Conflict if the email is taken, InvalidInput if malformed."""
    email = normalise_email(email)
    errors: dict[str, str] = {}
    if not _EMAIL.match(email) or len(email) > 254:
        errors["email"] = "Enter a valid email address."
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if errors:
        raise InvalidInput("invalid account details", errors)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"an account already exists for {email}")
    user = User(
        email=email,
        password_hash=generate_password_hash(password),
        role=role,
        display_name=display_name,
        locale=locale,
        email_verified_at=utcnow() if verified else None,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="account.created",
        subject_type="user",
        subject_id=user.id,
        details={"role": role.value},
    )
    return user


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The user with these credentials, or None; failed attempts are audited."""
    user = session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))
    if user is None or not check_password_hash(user.password_hash, password):
        audit.record(
            session,
            actor_id=user.id if user else None,
            action="login.failed",
            subject_type="user",
            subject_id=user.id if user else "",
        )
        return None
    audit.record(session, actor_id=user.id, action="login", subject_type="user", subject_id=user.id)
    return user


def get_user(session: Session, user_id: int) -> User:
    """The user with ``user_id``; NotFound otherwise."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user
