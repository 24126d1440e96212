from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Country, Locale, Profile, ProfileKind, User
from core.services import demo


def test_demo_world_is_large_and_covers_every_field_country_and_kind(session: Session) -> None:
    profiles = session.scalars(select(Profile)).all()
    assert len(profiles) >= 400
    combos = {(f.code, p.country, p.kind) for p in profiles for f in p.fields}
    for code in demo.demo.FIELD_CODES:
        for country in Country:
            for kind in ProfileKind:
                assert (code, country, kind) in combos


def test_demo_world_has_japanese_and_french_summaries(session: Session) -> None:
    languages = Counter(session.scalars(select(Profile.language)).all())
    total = sum(languages.values())
    assert 0.14 <= languages[Locale.JA] / total <= 0.26
    assert 0.06 <= languages[Locale.FR] / total <= 0.14


def test_demo_texts_are_varied(session: Session) -> None:
    summaries = session.scalars(select(Profile.summary)).all()
    assert len(set(summaries)) == len(summaries)
    openings = Counter(s.split(" ")[0] for s in summaries)
    assert openings.most_common(1)[0][1] < len(summaries) / 4


def test_demo_accounts_exist_and_own_profiles(session: Session) -> None:
    for account in demo.DEMO_ACCOUNTS:
        user = session.scalar(select(User).where(User.email == account.email))
        assert user is not None and user.role == account.role
    owned = session.scalar(
        select(func.count()).select_from(Profile).where(Profile.owner_id.is_not(None))
    )
    assert owned == 2


def test_seed_demo_is_deterministic_and_runs_once(session: Session) -> None:
    assert demo.seed_demo(session) == 0  # already seeded by the fixture
    first = session.execute(select(Profile.title, Profile.summary).order_by(Profile.id)).all()
    savepoint = session.begin_nested()
    session.execute(Profile.__table__.delete())
    session.execute(User.__table__.delete())
    assert demo.seed_demo(session) == len(first)
    again = session.execute(select(Profile.title, Profile.summary).order_by(Profile.id)).all()
    savepoint.rollback()
    assert again == first
