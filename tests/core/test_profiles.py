from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidInput, PermissionDenied
from core.models import Country, Locale, RematchRequest, RequestStatus
from core.services import profiles
from core.services.profiles import ProfileChanges
from tests.factories import make_profile, make_user


def _changes(**overrides: object) -> ProfileChanges:
    values: dict[str, object] = {
        "title": "Perovskite tandem solar cells",
        "summary": "We study perovskite on silicon tandem cells and their stability.",
        "field_codes": ["clean_technology"],
    }
    values.update(overrides)
    return ProfileChanges(**values)  # type: ignore[arg-type]


def test_update_profile_writes_a_rematch_request_in_the_same_unit(session: Session) -> None:
    owner = make_user(session)
    profile = make_profile(
        session, country=Country.JP, summary="first text", fields=["quantum"], owner=owner
    )
    profiles.update_profile(session, profile_id=profile.id, actor=owner, changes=_changes())
    requests = session.scalars(
        select(RematchRequest).where(RematchRequest.profile_id == profile.id)
    ).all()
    # Creating and editing coalesce into one pending request.
    assert [(r.status, r.reason) for r in requests] == [(RequestStatus.PENDING, "profile_updated")]
    assert [f.code for f in profile.fields] == ["clean_technology"]


def test_update_profile_detects_the_language_when_not_given(session: Session) -> None:
    owner = make_user(session)
    profile = make_profile(
        session, country=Country.JP, summary="x", fields=["quantum"], owner=owner
    )
    profiles.update_profile(
        session,
        profile_id=profile.id,
        actor=owner,
        changes=_changes(summary="超伝導量子ビットの誤り訂正に関する研究を行っています。"),
    )
    assert profile.language == Locale.JA


def test_update_profile_refuses_someone_elses_profile(session: Session) -> None:
    owner, intruder = make_user(session), make_user(session)
    profile = make_profile(
        session, country=Country.CA, summary="x", fields=["quantum"], owner=owner
    )
    with pytest.raises(PermissionDenied):
        profiles.update_profile(session, profile_id=profile.id, actor=intruder, changes=_changes())


def test_update_profile_reports_every_invalid_field(session: Session) -> None:
    owner = make_user(session)
    profile = make_profile(
        session, country=Country.CA, summary="x", fields=["quantum"], owner=owner
    )
    with pytest.raises(InvalidInput) as raised:
        profiles.update_profile(
            session,
            profile_id=profile.id,
            actor=owner,
            changes=_changes(title=" ", summary="y" * 5001, field_codes=["astrology"]),
        )
    assert set(raised.value.errors) == {"title", "summary", "fields"}
    assert profile.summary == "x"


def test_parse_keywords_splits_on_latin_and_japanese_commas() -> None:
    assert profiles.parse_keywords("qubits, 量子、 qubits ,, decoders") == [
        "qubits",
        "量子",
        "decoders",
    ]
