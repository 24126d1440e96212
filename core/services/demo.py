"""The demo world: a deterministic set of Japanese and Canadian profiles and demo accounts."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import demo
from core.models import (
    Availability,
    Country,
    Locale,
    Organization,
    OrganizationKind,
    Profile,
    ProfileKind,
    Role,
    User,
)
from core.services import accounts
from core.services.consent import NOTICE_VERSION
from core.services.profiles import ProfileChanges, create_profile

CONSENT_VERSION = NOTICE_VERSION
DEMO_PASSWORD = "demo-password-2026"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: Role
    description: str


DEMO_ACCOUNTS = [
    DemoAccount("researcher@demo.grantmatch.example", Role.REGISTRANT, "Japanese researcher"),
    DemoAccount("founder@demo.grantmatch.example", Role.REGISTRANT, "Canadian startup founder"),
    DemoAccount("officer@demo.grantmatch.example", Role.OFFICER, "program officer"),
]


def is_seeded(session: Session) -> bool:
    """True when the demo accounts exist already."""
    officer = DEMO_ACCOUNTS[2].email
    return session.scalar(select(User.id).where(User.email == officer)) is not None


def seed_demo(session: Session, *, seed: int = 2023_09_21) -> int:
    """Create the demo world (same input, same world). Returns the number of profiles.

    Does nothing and returns 0 when the demo is already there.
    """
    if is_seeded(session):
        return 0
    rng = random.Random(seed)
    topics = demo.load_topics()
    institutions = _institutions(session)
    startups: dict[str, Organization] = {}
    used_names: set[str] = set()
    used_summaries: set[str] = set()
    count = 0
    first_of: dict[tuple[Country, ProfileKind, str, Locale], Profile] = {}
    for index, topic in enumerate(topics):
        countries = [Country.JP, Country.CA]
        if index % 4 == 0:
            countries.append(rng.choice([Country.JP, Country.CA]))
        for nth, country in enumerate(countries):
            kind = ProfileKind.STARTUP if rng.random() < 0.4 else ProfileKind.RESEARCHER
            language = _language(rng, country)
            if kind == ProfileKind.STARTUP:
                organization = _startup(session, rng, country, topic["field"], startups)
                region = _startup_region(rng, country)
            else:
                organization, region = rng.choice(institutions[country])
            name = _person(rng, country, used_names)
            secondary = rng.choice(topics) if rng.random() < 0.3 else None
            field_codes = [topic["field"]]
            if secondary is not None and secondary["field"] != topic["field"]:
                field_codes.append(secondary["field"])
            # Two teams on one topic never describe it word for word.
            summary = _summary(rng, topic, secondary, kind, country, language)
            while summary in used_summaries:
                summary = _summary(rng, topic, secondary, kind, country, language)
            used_summaries.add(summary)
            profile = create_profile(
                session,
                organization=organization,
                kind=kind,
                region=region,
                changes=ProfileChanges(
                    title=_title(topic, language, nth),
                    summary=summary,
                    field_codes=field_codes,
                    keywords=list(topic["keywords"][language.value]),
                    availability=(
                        Availability.PAUSED if rng.random() < 0.04 else Availability.OPEN
                    ),
                    language=language,
                ),
                contact_name=name,
                contact_email=_email(name, organization),
                consent_version=CONSENT_VERSION,
            )
            if profile.availability == Availability.OPEN:
                first_of.setdefault((country, kind, topic["field"], language), profile)
            count += 1
    _demo_accounts(session, first_of)
    return count


def _language(rng: random.Random, country: Country) -> Locale:
    # About 20% of all summaries in Japanese and 10% in French.
    if country == Country.JP:
        return Locale.JA if rng.random() < 0.4 else Locale.EN
    return Locale.FR if rng.random() < 0.2 else Locale.EN


def _institutions(session: Session) -> dict[Country, list[tuple[Organization, str]]]:
    """The demo institutions of each country, with the region of their main campus."""
    result: dict[Country, list[tuple[Organization, str]]] = {Country.JP: [], Country.CA: []}
    for country, rows in ((Country.JP, demo.JP_INSTITUTIONS), (Country.CA, demo.CA_INSTITUTIONS)):
        for name, kind, region, staff, founded in rows:
            organization = Organization(
                name=name,
                country=country,
                kind=OrganizationKind(kind),
                staff_count=staff,
                founded_year=founded,
                website=None,
            )
            session.add(organization)
            result[country].append((organization, region))
    session.flush()
    return result


def _startup(
    session: Session,
    rng: random.Random,
    country: Country,
    field_code: str,
    startups: dict[str, Organization],
) -> Organization:
    stems = demo.JP_STARTUP_STEMS if country == Country.JP else demo.CA_STARTUP_STEMS
    suffixes = demo.STARTUP_SUFFIXES[field_code]
    for _ in range(50):
        name = f"{rng.choice(stems)} {rng.choice(suffixes)}"
        name = f"{name} K.K." if country == Country.JP else f"{name} Inc."
        if name not in startups:
            break
    else:
        name = f"{name} {len(startups) + 1}"
    organization = Organization(
        name=name,
        country=country,
        kind=OrganizationKind.STARTUP if rng.random() < 0.8 else OrganizationKind.SME,
        staff_count=rng.randint(3, 120),
        founded_year=rng.randint(2012, 2025),
        website=f"https://{name.split()[0].lower().replace('-', '')}.example",
    )
    session.add(organization)
    startups[name] = organization
    return organization


def _startup_region(rng: random.Random, country: Country) -> str:
    regions = (
        demo.JP_REGIONS_FOR_STARTUPS if country == Country.JP else demo.CA_REGIONS_FOR_STARTUPS
    )
    return rng.choice(regions)


def _person(rng: random.Random, country: Country, used: set[str]) -> str:
    family, given = (
        (demo.JP_FAMILY, demo.JP_GIVEN)
        if country == Country.JP
        else (demo.CA_FAMILY, demo.CA_GIVEN)
    )
    for _ in range(100):
        name = f"{rng.choice(given)} {rng.choice(family)}"
        if name not in used:
            break
    used.add(name)
    return name


def _email(name: str, organization: Organization) -> str:
    local = name.lower().replace(" ", ".").encode("ascii", "ignore").decode()
    domain = organization.website.removeprefix("https://") if organization.website else None
    return f"{local}@{domain or 'research.example'}"


def _title(topic: dict[str, Any], language: Locale, nth: int) -> str:
    """The topic's title, or its alternative wording for every second team on it."""
    if nth % 2 == 1 and "alt_title" in topic:
        return str(topic["alt_title"][language.value])
    return str(topic[language.value]["title"])


def _product_sentence(topic: dict[str, Any], lang: str) -> str:
    """The topic's product line, told by the startup itself ("Our company sells ...")."""
    sentence = str(topic["product"][lang])
    if lang == "ja":
        return sentence
    subject, lead = (
        ("Our company", "A startup ") if lang == "en" else ("Notre entreprise", "Une jeune pousse ")
    )
    if sentence.startswith(lead):
        return f"{subject} {sentence.removeprefix(lead)}"
    first, _, rest = sentence.partition(" ")
    if first in demo.PRODUCT_VERBS[lang]:
        return f"{subject} {first.lower()} {rest}"
    return sentence


def _summary(
    rng: random.Random,
    topic: dict[str, Any],
    secondary: dict[str, Any] | None,
    kind: ProfileKind,
    country: Country,
    language: Locale,
) -> str:
    lang = language.value
    # A random subset of the topic's sentences (order kept): two profiles on one topic
    # overlap, as two real teams on one problem do, without being copies.
    sentences = _sentences(str(topic[lang]["summary"]), lang)
    if len(sentences) > 2:
        dropped = rng.randrange(len(sentences) + 1)
        sentences = [s for i, s in enumerate(sentences) if i != dropped]
    parts = sentences
    if kind == ProfileKind.STARTUP:
        parts.insert(0, _product_sentence(topic, lang))
    if secondary is not None and secondary["key"] != topic["key"]:
        parts.append(_first_sentence(str(secondary[lang]["summary"]), lang))
    other = demo.OTHER_COUNTRY_NAMES[(country.value, lang)]
    parts.append(rng.choice(demo.SEEKING_SENTENCES[(kind.value, lang)]).format(other=other))
    return ("" if lang == "ja" else " ").join(parts)


def _sentences(text: str, lang: str) -> list[str]:
    pattern = r"(?<=。)" if lang == "ja" else r"(?<=[.!?])\s+"
    return [part.strip() for part in re.split(pattern, text) if part.strip()]


def _first_sentence(text: str, lang: str) -> str:
    return _sentences(text, lang)[0]


def _demo_accounts(
    session: Session, first_of: dict[tuple[Country, ProfileKind, str, Locale], Profile]
) -> None:
    researcher, founder, officer = DEMO_ACCOUNTS
    owners = {
        researcher.email: (Country.JP, ProfileKind.RESEARCHER, "quantum", Locale.JA),
        founder.email: (Country.CA, ProfileKind.STARTUP, "clean_technology", Locale.EN),
    }
    for email, key in owners.items():
        profile = first_of[key]
        locale = key[3]
        user = accounts.create_user(
            session,
            email=email,
            password=DEMO_PASSWORD,
            display_name=profile.contact_name,
            locale=locale,
            verified=True,
        )
        profile.owner = user
        profile.contact_email = email
    accounts.create_user(
        session,
        email=officer.email,
        password=DEMO_PASSWORD,
        role=Role.OFFICER,
        display_name="Demo Program Officer",
        verified=True,
    )
