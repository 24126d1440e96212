"""Test data builders: they flush, never commit."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from core.models import Country, Organization, OrganizationKind, Profile, ProfileKind, User
from core.services import accounts
from core.services.profiles import ProfileChanges, create_profile

_counter = itertools.count(1)


def make_user(session: Session, **overrides: object) -> User:
    number = next(_counter)
    values: dict[str, object] = {
        "email": f"person{number}@tests.example",
        "password": "correct horse battery",
    }
    values.update(overrides)
    return accounts.create_user(session, **values)  # type: ignore[arg-type]


def make_organization(session: Session, country: Country, **overrides: object) -> Organization:
    organization = Organization(
        name=f"Test organization {next(_counter)}",
        country=country,
        kind=overrides.pop("kind", OrganizationKind.UNIVERSITY),  # type: ignore[arg-type]
        **overrides,
    )
    session.add(organization)
    session.flush()
    return organization


def make_profile(
    session: Session,
    *,
    country: Country,
    summary: str,
    fields: list[str],
    title: str = "Test profile",
    kind: ProfileKind = ProfileKind.RESEARCHER,
    owner: User | None = None,
    consented: bool = True,
) -> Profile:
    return create_profile(
        session,
        organization=make_organization(session, country),
        kind=kind,
        region="JP-13" if country == Country.JP else "CA-ON",
        changes=ProfileChanges(title=title, summary=summary, field_codes=fields),
        owner=owner,
        contact_name="Test Person",
        contact_email=f"contact{next(_counter)}@tests.example",
        consent_version="test" if consented else None,
    )
