"""Profiles: reading, creating and editing, with the rematch request written alongside."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.errors import InvalidInput, NotFound, PermissionDenied
from core.models import Availability, Locale, Organization, Profile, ProfileKind, User, utcnow
from core.services import audit, outbox
from core.services.fields import list_fields
from matcher.text import detect_language

MAX_SUMMARY_LENGTH = 5000
MAX_TITLE_LENGTH = 300
MAX_KEYWORDS = 30


@dataclass(frozen=True)
class ProfileChanges:
    """What a registrant may change on their profile."""

    title: str
    summary: str
    field_codes: list[str]
    keywords: list[str] = field(default_factory=list)
    availability: Availability = Availability.OPEN
    language: Locale | None = None


def get_profile(session: Session, profile_id: int) -> Profile:
    """The profile with ``profile_id``; NotFound otherwise."""
    profile = session.get(Profile, profile_id)
    if profile is None:
        raise NotFound(f"no profile {profile_id}")
    return profile


def profile_of(session: Session, user_id: int) -> Profile | None:
    """The profile owned by ``user_id``, if any."""
    query = (
        select(Profile)
        .where(Profile.owner_id == user_id)
        .options(selectinload(Profile.fields), selectinload(Profile.organization))
        .order_by(Profile.id)
        .limit(1)
    )
    return session.scalar(query)


def parse_keywords(raw: str) -> list[str]:
    """Split a comma (or 、) separated list, trimmed, without duplicates, order kept."""
    seen: dict[str, None] = {}
    for part in raw.replace("、", ",").replace("，", ",").split(","):
        keyword = part.strip()
        if keyword:
            seen.setdefault(keyword, None)
    return list(seen)


def validate_changes(session: Session, changes: ProfileChanges) -> None:
    """Raise InvalidInput with a message per bad field."""
    errors: dict[str, str] = {}
    if not changes.title.strip():
        errors["title"] = "Give your profile a title."
    elif len(changes.title) > MAX_TITLE_LENGTH:
        errors["title"] = f"Keep the title under {MAX_TITLE_LENGTH} characters."
    if not changes.summary.strip():
        errors["summary"] = "Describe your research or product."
    elif len(changes.summary) > MAX_SUMMARY_LENGTH:
        errors["summary"] = f"Keep the summary under {MAX_SUMMARY_LENGTH} characters."
    known = {f.code for f in list_fields(session)}
    if not changes.field_codes:
        errors["fields"] = "Choose at least one MOC field."
    elif any(code not in known for code in changes.field_codes):
        errors["fields"] = "Choose fields from the list."
    if len(changes.keywords) > MAX_KEYWORDS:
        errors["keywords"] = f"Use at most {MAX_KEYWORDS} keywords."
    if errors:
        raise InvalidInput("invalid profile", errors)


def update_profile(
    session: Session, *, profile_id: int, actor: User, changes: ProfileChanges
) -> Profile:
    """Apply ``changes`` and request a rematch in the same unit of work."""
    profile = get_profile(session, profile_id)
    if profile.owner_id != actor.id:
        raise PermissionDenied("only the owner may edit a profile")
    validate_changes(session, changes)
    by_code = {f.code: f for f in list_fields(session)}
    profile.title = changes.title.strip()
    profile.summary = changes.summary.strip()
    profile.keywords = changes.keywords
    profile.fields = [by_code[code] for code in dict.fromkeys(changes.field_codes)]
    profile.availability = changes.availability
    profile.language = changes.language or Locale(detect_language(profile.summary))
    profile.updated_at = utcnow()
    outbox.request_rematch(session, profile_id=profile.id, reason="profile_updated")
    audit.record(
        session,
        actor_id=actor.id,
        action="profile.updated",
        subject_type="profile",
        subject_id=profile.id,
    )
    return profile


def create_profile(
    session: Session,
    *,
    organization: Organization,
    kind: ProfileKind,
    region: str,
    changes: ProfileChanges,
    owner: User | None = None,
    contact_name: str = "",
    contact_email: str = "",
    consent_version: str | None = None,
) -> Profile:
    """Create a profile (consented if ``consent_version`` is given) and request its matching."""
    validate_changes(session, changes)
    by_code = {f.code: f for f in list_fields(session)}
    profile = Profile(
        owner=owner,
        organization=organization,
        kind=kind,
        country=organization.country,
        region=region,
        contact_name=contact_name,
        contact_email=contact_email,
        title=changes.title.strip(),
        summary=changes.summary.strip(),
        language=changes.language or Locale(detect_language(changes.summary)),
        keywords=changes.keywords,
        fields=[by_code[code] for code in dict.fromkeys(changes.field_codes)],
        availability=changes.availability,
        consent_at=utcnow() if consent_version else None,
        consent_version=consent_version,
    )
    session.add(profile)
    session.flush()
    outbox.request_rematch(session, profile_id=profile.id, reason="profile_created")
    return profile
