"""Accounts: registration, verification, authentication, password and email changes,
preferences, and the privacy rights (export, deletion)."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from core.errors import Conflict, InvalidInput, Message, NotFound, PermissionDenied
from core.links import RESET_PASSWORD, SET_PASSWORD, VERIFY_EMAIL, Links
from core.models import (
    AuditEvent,
    ConsentEvent,
    DigestFrequency,
    Interest,
    Introduction,
    Locale,
    Organization,
    Profile,
    RematchRequest,
    Role,
    User,
    utcnow,
)
from core.services import audit, emails

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
MIN_DISTINCT_CHARACTERS = 5
# Passwords seen at the top of every breach list; longer than the minimum length.
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "12345678910",
        "0123456789",
        "qwertyuiop",
        "password123",
        "password1234",
        "passw0rd123",
        "iloveyou123",
        "qwerty12345",
        "1q2w3e4r5t",
        "abcdefghij",
        "letmein1234",
        "welcome123",
        "administrator",
    }
)
# The rules, as shown next to every password field before anyone types.
PASSWORD_RULES = Message(
    "At least %(length)s characters, at least %(distinct)s different characters, "
    "not your email address and not a common password.",
    length=MIN_PASSWORD_LENGTH,
    distinct=MIN_DISTINCT_CHARACTERS,
)


def normalise_email(email: str) -> str:
    """Trimmed and lower-cased, the form emails are stored and compared in."""
    return email.strip().lower()


def email_problem(email: str) -> Message | None:
    if not _EMAIL.match(email) or len(email) > 254:
        return Message("Enter a valid email address.")
    return None


def password_problem(password: str, *, email: str = "") -> Message | None:
    """Why ``password`` is too weak, or None. The rules are PASSWORD_RULES."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return Message("Use at least %(length)s characters.", length=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return Message("Use at most %(length)s characters.", length=MAX_PASSWORD_LENGTH)
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        return Message(
            "Use at least %(distinct)s different characters.", distinct=MIN_DISTINCT_CHARACTERS
        )
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        return Message("This password is too common; choose another.")
    local_part = normalise_email(email).split("@")[0]
    if email and (
        lowered == normalise_email(email) or (len(local_part) >= 4 and local_part in lowered)
    ):
        return Message("Do not use your email address in your password.")
    return None


def _taken(session: Session, email: str, *, except_id: int | None = None) -> bool:
    query = select(User.id).where(func.lower(User.email) == email)
    if except_id is not None:
        query = query.where(User.id != except_id)
    return session.scalar(query) is not None


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
    if problem := email_problem(email):
        errors["email"] = problem
    if problem := password_problem(password, email=email):
        errors["password"] = problem
    if errors:
        raise InvalidInput("invalid account details", errors)
    if _taken(session, email):
        raise Conflict(f"an account already exists for {email}")
    user = User(
        email=email,
        password_hash=generate_password_hash(password),
        role=role,
        display_name=display_name.strip(),
        locale=locale,
        email_verified_at=utcnow() if verified else None,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id if actor_id is not None else user.id,
        action="account.created",
        subject_type="user",
        subject_id=user.id,
        details={"role": role.value},
    )
    return user


def register(
    session: Session,
    *,
    email: str,
    password: str,
    display_name: str,
    locale: Locale,
    links: Links,
) -> User:
    """Self-registration: an unverified registrant, and the verification email queued.

    Conflict when the address is taken (the web layer answers the same either way, so
    nobody can probe which addresses have accounts).
    """
    user = create_user(
        session, email=email, password=password, display_name=display_name, locale=locale
    )
    queue_verification(session, user, links)
    return user


def queue_verification(session: Session, user: User, links: Links) -> None:
    link = links.url(VERIFY_EMAIL, {"u": user.id, "e": user.email})
    emails.queue_for_user(session, user, "verify_email", link=link)


def verify_email(session: Session, *, token: str, links: Links) -> User:
    """Mark the address in a verification link as verified; also completes an email
    change (the link names the new address). InvalidInput for a bad or expired link."""
    payload = links.read(VERIFY_EMAIL, token)
    user = session.get(User, payload.get("u"))
    address = normalise_email(str(payload.get("e", "")))
    if user is None:
        raise InvalidInput("this link is not valid", {"token": "invalid"})
    if address != user.email:
        if _taken(session, address, except_id=user.id):
            raise Conflict("another account uses this address now")
        audit.record(
            session,
            actor_id=user.id,
            action="account.email_changed",
            subject_type="user",
            subject_id=user.id,
        )
        user.email = address
    if user.email_verified_at is None or address != user.email:
        user.email_verified_at = utcnow()
        audit.record(
            session,
            actor_id=user.id,
            action="account.verified",
            subject_type="user",
            subject_id=user.id,
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


FAILED_LOGIN_WINDOW = timedelta(minutes=15)
FREE_FAILED_LOGINS = 5
FAILED_LOGIN_PAUSE = timedelta(seconds=30)


def login_wait(session: Session, *, email: str, now: datetime) -> int:
    """Seconds to wait before the next login attempt on this account: after
    FREE_FAILED_LOGINS failures within FAILED_LOGIN_WINDOW, one attempt per
    FAILED_LOGIN_PAUSE (password guessing slows to a crawl; the owner is not locked out)."""
    user_id = session.scalar(
        select(User.id).where(func.lower(User.email) == normalise_email(email))
    )
    if user_id is None:
        return 0
    failures = session.execute(
        select(func.count(), func.max(AuditEvent.occurred_at)).where(
            AuditEvent.action == "login.failed",
            AuditEvent.subject_type == "user",
            AuditEvent.subject_id == str(user_id),
            AuditEvent.occurred_at >= now - FAILED_LOGIN_WINDOW,
        )
    ).one()
    count, last = failures
    if count < FREE_FAILED_LOGINS or last is None:
        return 0
    last = last if last.tzinfo else last.replace(tzinfo=UTC)
    remaining = (last + FAILED_LOGIN_PAUSE - now).total_seconds()
    return max(0, int(remaining) + 1) if remaining > 0 else 0


def get_user(session: Session, user_id: int) -> User:
    """The user with ``user_id``; NotFound otherwise."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def _password_fingerprint(user: User) -> str:
    # Part of the current hash: a reset link stops working once the password changes.
    return user.password_hash[-16:]


def request_password_reset(session: Session, *, email: str, links: Links) -> None:
    """Queue a reset link if an account has this address; silent otherwise."""
    user = session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))
    if user is None:
        return
    link = links.url(RESET_PASSWORD, {"u": user.id, "h": _password_fingerprint(user)})
    emails.queue_for_user(session, user, "reset_password", link=link)
    audit.record(
        session,
        actor_id=None,
        action="password.reset_requested",
        subject_type="user",
        subject_id=user.id,
    )


def user_for_reset(session: Session, *, token: str, links: Links) -> User:
    """The account a reset (or first password) link is for; InvalidInput if bad, expired
    or already used."""
    try:
        payload = links.read(RESET_PASSWORD, token)
    except InvalidInput:
        payload = links.read(SET_PASSWORD, token)
    user = session.get(User, payload.get("u"))
    if user is None or payload.get("h") != _password_fingerprint(user):
        raise InvalidInput("this link is not valid", {"token": "used"})
    return user


def reset_password(session: Session, *, token: str, new_password: str, links: Links) -> User:
    """Set a new password through a reset link (which then stops working). Following the
    link proves the address, so it also counts as verification."""
    user = user_for_reset(session, token=token, links=links)
    _set_password(session, user, new_password)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    return user


def _set_password(session: Session, user: User, new_password: str) -> None:
    if problem := password_problem(new_password, email=user.email):
        raise InvalidInput("weak password", {"new_password": problem})
    user.password_hash = generate_password_hash(new_password)
    audit.record(
        session,
        actor_id=user.id,
        action="password.changed",
        subject_type="user",
        subject_id=user.id,
    )


def change_password(session: Session, *, user: User, current: str, new_password: str) -> None:
    if not check_password_hash(user.password_hash, current):
        raise InvalidInput(
            "wrong password", {"current_password": Message("This is not your current password.")}
        )
    _set_password(session, user, new_password)


def request_email_change(
    session: Session, *, user: User, new_email: str, password: str, links: Links
) -> None:
    """Send a confirmation link to the new address; the address changes when it is used."""
    address = normalise_email(new_email)
    if not check_password_hash(user.password_hash, password):
        raise InvalidInput(
            "wrong password", {"password": Message("This is not your current password.")}
        )
    if problem := email_problem(address):
        raise InvalidInput("bad address", {"new_email": problem})
    if address == user.email:
        raise InvalidInput("same address", {"new_email": Message("This is already your address.")})
    if _taken(session, address, except_id=user.id):
        raise InvalidInput("taken", {"new_email": Message("Another account uses this address.")})
    link = links.url(VERIFY_EMAIL, {"u": user.id, "e": address})
    emails.queue_email(
        session,
        to_address=address,
        locale=user.locale,
        kind="change_email",
        user_id=user.id,
        user=user,
        link=link,
    )


def update_preferences(
    session: Session, *, user: User, display_name: str, locale: Locale, digest: DigestFrequency
) -> None:
    user.display_name = display_name.strip()[:200]
    user.locale = locale
    user.digest_frequency = digest


def set_role(session: Session, *, actor: User, user_id: int, role: Role) -> User:
    """Change an account's role (admins only; never one's own, so that the last admin
    cannot lock everyone out). The change is audited with the previous role."""
    if actor.role != Role.ADMIN:
        raise PermissionDenied("only an admin changes roles")
    user = get_user(session, user_id)
    if user.id == actor.id:
        raise InvalidInput("own role", {"role": Message("You cannot change your own role.")})
    if user.role == role:
        return user
    previous = user.role
    user.role = role
    audit.record(
        session,
        actor_id=actor.id,
        action="role.changed",
        subject_type="user",
        subject_id=user.id,
        details={"previous": previous.value, "new": role.value},
    )
    return user


def create_staff_account(
    session: Session, *, actor: User, email: str, display_name: str, role: Role, links: Links
) -> User:
    """An admin creates an officer (or admin) account; the person receives a link to
    choose their password (valid for 3 days), which also verifies the address."""
    if actor.role != Role.ADMIN:
        raise PermissionDenied("only an admin creates staff accounts")
    user = create_user(
        session,
        email=email,
        # Nobody knows this password: the person sets their own through the link.
        password=secrets.token_urlsafe(32),
        role=role,
        display_name=display_name,
        actor_id=actor.id,
    )
    link = links.url(SET_PASSWORD, {"u": user.id, "h": _password_fingerprint(user)})
    emails.queue_for_user(session, user, "staff_account", link=link, role=role.value)
    return user


def list_users(session: Session, *, search: str = "", limit: int = 100) -> list[User]:
    query = select(User).order_by(User.role, User.email).limit(limit)
    text = search.strip().lower()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(func.lower(User.email).like(pattern, escape="\\"))
    return list(session.scalars(query))


def unsubscribe(session: Session, *, user_id: int) -> User | None:
    """Stop digest emails for ``user_id`` (one-click unsubscribe). None if gone."""
    user = session.get(User, user_id)
    if user is not None and user.digest_frequency != DigestFrequency.NEVER:
        user.digest_frequency = DigestFrequency.NEVER
        audit.record(
            session,
            actor_id=user.id,
            action="digest.unsubscribed",
            subject_type="user",
            subject_id=user.id,
        )
    return user


def export_data(session: Session, *, user: User) -> dict[str, Any]:
    """Everything stored about an account, as JSON-ready data (the right of access)."""
    profiles = session.scalars(select(Profile).where(Profile.owner_id == user.id)).all()
    profile_ids = [p.id for p in profiles]

    def when(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    consents = session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.profile_id.in_(profile_ids))
        .order_by(ConsentEvent.id)
    ).all()
    interests = session.scalars(
        select(Interest).where(Interest.profile_id.in_(profile_ids)).order_by(Interest.id)
    ).all()
    introductions = session.scalars(
        select(Introduction)
        .where(
            Introduction.jp_profile_id.in_(profile_ids)
            | Introduction.ca_profile_id.in_(profile_ids)
        )
        .order_by(Introduction.id)
    ).all()
    audit.record(
        session,
        actor_id=user.id,
        action="account.exported",
        subject_type="user",
        subject_id=user.id,
    )
    return {
        "exported_at": utcnow().isoformat(),
        "account": {
            "id": user.id,
            "email": user.email,
            "display_name": user.display_name,
            "role": user.role.value,
            "language": user.locale.value,
            "email_verified_at": when(user.email_verified_at),
            "digest_frequency": user.digest_frequency.value,
            "created_at": when(user.created_at),
        },
        "profiles": [
            {
                "id": p.id,
                "kind": p.kind.value,
                "organization": {
                    "name": p.organization.name,
                    "kind": p.organization.kind.value,
                    "country": p.organization.country.value,
                    "staff_count": p.organization.staff_count,
                    "founded_year": p.organization.founded_year,
                    "website": p.organization.website,
                },
                "country": p.country.value,
                "region": p.region,
                "contact_name": p.contact_name,
                "contact_email": p.contact_email,
                "title": p.title,
                "summary": p.summary,
                "language": p.language.value,
                "keywords": p.keywords,
                "fields": [f.code for f in p.fields],
                "seeking": p.seeking,
                "collaboration_types": p.collaboration_types,
                "availability": p.availability.value,
                "orcid": p.orcid,
                "consent_at": when(p.consent_at),
                "consent_version": p.consent_version,
                "created_at": when(p.created_at),
                "updated_at": when(p.updated_at),
            }
            for p in profiles
        ],
        "consents": [
            {
                "profile_id": c.profile_id,
                "action": c.action.value,
                "notice_version": c.notice_version,
                "at": when(c.occurred_at),
            }
            for c in consents
        ],
        "interests": [
            {
                "profile_id": i.profile_id,
                "partner_profile_id": i.partner_profile_id,
                "state": i.state.value,
                "reason_code": i.reason_code.value if i.reason_code else None,
                "reason_text": i.reason_text,
                "at": when(i.updated_at),
            }
            for i in interests
        ],
        "introductions": [
            {
                "japanese_profile_id": i.jp_profile_id,
                "canadian_profile_id": i.ca_profile_id,
                "status": i.status.value,
                "introduced_at": when(i.introduced_at),
            }
            for i in introductions
        ],
    }


def delete_account(session: Session, *, user: User, password: str) -> None:
    """Erase an account: its profiles (with their pairs, interests, introductions and
    consents, by cascade), organizations nobody else uses, its queued mail and open
    rematch requests. The audit trail keeps only that account id N was deleted."""
    if not check_password_hash(user.password_hash, password):
        raise InvalidInput(
            "wrong password", {"password": Message("This is not your current password.")}
        )
    user_id = user.id
    profiles = session.scalars(select(Profile).where(Profile.owner_id == user_id)).all()
    organizations = {p.organization_id for p in profiles}
    for profile in profiles:
        # Nothing may bring the profile back: drop its open requests; the pairs go with it.
        session.execute(delete(RematchRequest).where(RematchRequest.profile_id == profile.id))
        session.delete(profile)
    session.flush()
    for organization_id in organizations:
        still_used = session.scalar(
            select(Profile.id).where(Profile.organization_id == organization_id).limit(1)
        )
        if still_used is None:
            session.execute(delete(Organization).where(Organization.id == organization_id))
    emails.forget_user(session, user_id=user_id, addresses=[user.email])
    session.delete(user)
    session.flush()
    audit.record(
        session, actor_id=None, action="account.deleted", subject_type="user", subject_id=user_id
    )
