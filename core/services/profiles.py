"""Profiles: reading, creating and editing, with the rematch request written alongside."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.errors import InvalidInput, Message, NotFound, PermissionDenied
from core.models import (
    Availability,
    CollaborationType,
    Country,
    Locale,
    Organization,
    OrganizationKind,
    PartnerKind,
    Profile,
    ProfileKind,
    User,
    utcnow,
)
from core.orcid import normalise_orcid
from core.regions import is_valid_region
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


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_CHARACTERS = Message("Remove the invisible control characters from this field.")


def control_character_errors(**texts: str) -> dict[str, str]:
    """A message for each text that holds control characters (NUL and the like, which no
    one types and which PostgreSQL refuses to store); tabs and line breaks are fine."""
    return {name: CONTROL_CHARACTERS for name, text in texts.items() if _CONTROL.search(text)}


def validate_changes(session: Session, changes: ProfileChanges) -> None:
    """Raise InvalidInput with a message per bad field."""
    errors: dict[str, str] = {}
    errors.update(
        control_character_errors(
            title=changes.title, summary=changes.summary, keywords=" ".join(changes.keywords)
        )
    )
    if errors:
        raise InvalidInput("invalid profile", errors)
    if not changes.title.strip():
        errors["title"] = Message("Give your profile a title.")
    elif len(changes.title) > MAX_TITLE_LENGTH:
        errors["title"] = Message(
            "Keep the title under %(length)s characters.", length=MAX_TITLE_LENGTH
        )
    if not changes.summary.strip():
        errors["summary"] = Message("Describe your research or product.")
    elif len(changes.summary) > MAX_SUMMARY_LENGTH:
        errors["summary"] = Message(
            "Keep the summary under %(length)s characters.", length=MAX_SUMMARY_LENGTH
        )
    known = {f.code for f in list_fields(session)}
    if not changes.field_codes:
        errors["fields"] = Message("Choose at least one MOC field.")
    elif any(code not in known for code in changes.field_codes):
        errors["fields"] = Message("Choose fields from the list.")
    if len(changes.keywords) > MAX_KEYWORDS:
        errors["keywords"] = Message("Use at most %(count)s keywords.", count=MAX_KEYWORDS)
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


@dataclass(frozen=True)
class RegistrantProfile:
    """Everything a researcher or founder fills in about themselves and their organization."""

    kind: ProfileKind
    organization_name: str
    organization_kind: OrganizationKind
    region: str
    changes: ProfileChanges
    staff_count: int | None = None
    founded_year: int | None = None
    website: str = ""
    seeking: list[str] = field(default_factory=list)
    collaboration_types: list[str] = field(default_factory=list)
    orcid: str = ""


MAX_STAFF = 10_000_000
EARLIEST_FOUNDED = 1600


def validate_registrant(session: Session, details: RegistrantProfile) -> dict[str, str]:
    """A message per bad field of the whole form (empty when all is well); the ORCID iD
    is normalised separately by :func:`save_registrant_profile`."""
    errors: dict[str, str] = control_character_errors(
        organization_name=details.organization_name,
        website=details.website,
        orcid=details.orcid,
        region=details.region,
    )
    try:
        validate_changes(session, details.changes)
    except InvalidInput as error:
        errors.update(error.errors)
    name = details.organization_name.strip()
    if not name:
        errors["organization_name"] = Message("Give the name of your organization.")
    elif len(name) > 300:
        errors["organization_name"] = Message("Keep the name under 300 characters.")
    country = details.region.split("-")[0]
    if not is_valid_region(country, details.region):
        errors["region"] = Message("Choose your prefecture, province or territory from the list.")
    if details.staff_count is not None and not 0 < details.staff_count <= MAX_STAFF:
        errors["staff_count"] = Message("Enter a number of staff between 1 and 10,000,000.")
    this_year = utcnow().year
    if details.founded_year is not None and not (
        EARLIEST_FOUNDED <= details.founded_year <= this_year
    ):
        errors["founded_year"] = Message(
            "Enter a year between %(first)s and %(last)s.", first=EARLIEST_FOUNDED, last=this_year
        )
    website = details.website.strip()
    if website and (not website.startswith(("https://", "http://")) or len(website) > 500):
        errors["website"] = Message("Enter the full address, starting with https://.")
    if any(kind not in {k.value for k in PartnerKind} for kind in details.seeking):
        errors["seeking"] = Message("Choose partner kinds from the list.")
    if any(c not in {t.value for t in CollaborationType} for c in details.collaboration_types):
        errors["collaboration_types"] = Message("Choose collaboration types from the list.")
    if details.orcid.strip():
        if details.kind != ProfileKind.RESEARCHER:
            errors["orcid"] = Message("Only researchers give an ORCID iD.")
        elif normalise_orcid(details.orcid) is None:
            errors["orcid"] = Message(
                "This is not a valid ORCID iD (16 digits such as 0000-0002-1825-0097)."
            )
    return errors


def save_registrant_profile(
    session: Session, *, owner: User, details: RegistrantProfile
) -> Profile:
    """Create or update the owner's profile and organization; request its rematch.

    InvalidInput with a message per bad field; nothing is written then.
    """
    errors = validate_registrant(session, details)
    if errors:
        raise InvalidInput("invalid profile", errors)
    changes = details.changes
    country = Country(details.region.split("-")[0])
    by_code = {f.code: f for f in list_fields(session)}
    profile = profile_of(session, owner.id)
    if profile is None:
        organization = Organization(name="", country=country, kind=details.organization_kind)
        profile = Profile(owner=owner, organization=organization, consent_at=None)
        session.add(profile)
        action = "profile.created"
    else:
        organization = profile.organization
        action = "profile.updated"
    organization.name = details.organization_name.strip()
    organization.country = country
    organization.kind = details.organization_kind
    organization.staff_count = details.staff_count
    organization.founded_year = details.founded_year
    organization.website = details.website.strip() or None
    profile.kind = details.kind
    profile.country = country
    profile.region = details.region
    profile.contact_name = owner.display_name
    profile.contact_email = owner.email
    profile.title = changes.title.strip()
    profile.summary = changes.summary.strip()
    profile.language = changes.language or Locale(detect_language(profile.summary))
    profile.keywords = changes.keywords
    profile.fields = [by_code[code] for code in dict.fromkeys(changes.field_codes)]
    profile.availability = changes.availability
    profile.seeking = list(dict.fromkeys(details.seeking))
    profile.collaboration_types = list(dict.fromkeys(details.collaboration_types))
    profile.orcid = normalise_orcid(details.orcid) if details.orcid.strip() else None
    profile.updated_at = utcnow()
    session.flush()
    outbox.request_rematch(session, profile_id=profile.id, reason=action.split(".")[1])
    audit.record(
        session, actor_id=owner.id, action=action, subject_type="profile", subject_id=profile.id
    )
    return profile


def set_availability(
    session: Session, *, profile: Profile, actor: User, availability: Availability
) -> None:
    """Open or pause a profile; a paused profile is taken out of matching."""
    if profile.owner_id != actor.id:
        raise PermissionDenied("only the owner may change a profile")
    if profile.availability == availability:
        return
    profile.availability = availability
    outbox.request_rematch(session, profile_id=profile.id, reason=f"profile_{availability.value}")
    audit.record(
        session,
        actor_id=actor.id,
        action=f"profile.{availability.value}",
        subject_type="profile",
        subject_id=profile.id,
    )
