"""The walking skeleton end to end through the Flask test client."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Match, Profile, RematchRequest, RequestStatus, User
from core.services import demo, matching
from tests.conftest import login

RESEARCHER, FOUNDER, OFFICER = (a.email for a in demo.DEMO_ACCOUNTS)


def _profile_of(session: Session, email: str) -> Profile:
    profile = session.scalar(select(Profile).join(User).where(User.email == email))
    assert profile is not None
    return profile


def test_home_page_lists_the_moc_fields(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "量子" in page and "半導体" in page


def test_health_check_reports_ok(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}


@pytest.mark.parametrize("email", [RESEARCHER, FOUNDER, OFFICER])
def test_every_demo_account_can_log_in(client: FlaskClient, email: str) -> None:
    login(client, email)
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_without_saying_which_part(client: FlaskClient) -> None:
    response = client.post("/login", data={"email": RESEARCHER, "password": "wrong one"})
    assert response.status_code == 401
    assert "Email or password is not correct" in response.get_data(as_text=True)


def test_registrant_sees_profile_and_ranked_matches(client: FlaskClient, session: Session) -> None:
    login(client, RESEARCHER)
    profile = _profile_of(session, RESEARCHER)
    assert profile.title in client.get("/profile/").get_data(as_text=True)
    page = client.get("/matches/").get_data(as_text=True)
    matches = matching.matches_for_profile(session, profile)
    assert matches
    best = matches[0]
    assert best.rank_jp == 1
    assert best.ca_profile.title in page
    # Contact details stay hidden until an introduction.
    assert best.ca_profile.contact_email not in page
    assert best.ca_profile.contact_name not in page


def test_anonymous_visitors_are_sent_to_login(client: FlaskClient) -> None:
    for url in ("/matches/", "/profile/", "/profile/edit", "/officer/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_registrant_gets_403_on_officer_pages(client: FlaskClient) -> None:
    login(client, FOUNDER)
    assert client.get("/officer/").status_code == 403
    assert client.get("/officer/fields/quantum").status_code == 403
    assert client.post("/officer/rematch").status_code == 403


def test_officer_sees_ranked_pairs_per_field(client: FlaskClient, session: Session) -> None:
    login(client, OFFICER)
    dashboard = client.get("/officer/").get_data(as_text=True)
    assert "Quantum" in dashboard
    page = client.get("/officer/fields/quantum").get_data(as_text=True)
    pairs, total = matching.pairs_for_field(session, field_code="quantum", limit=1)
    assert total > 0
    assert pairs[0].jp_profile.title in page and pairs[0].ca_profile.title in page
    assert client.get("/officer/fields/astrology").status_code == 404


def test_profile_edit_triggers_a_rematch(client: FlaskClient, session: Session) -> None:
    login(client, FOUNDER)
    profile = _profile_of(session, FOUNDER)
    response = client.post(
        "/profile/edit",
        data={
            "title": "Sodium-ion batteries for grid storage",
            "summary": "We build sodium-ion battery packs with Prussian blue cathodes and "
            "hard carbon anodes for grid storage and cold-climate microgrids.",
            "language": "",
            "keywords": "sodium-ion, grid storage",
            "fields": ["clean_technology"],
            "availability": "open",
        },
    )
    assert response.status_code == 302
    session.expire_all()
    request = session.scalar(
        select(RematchRequest)
        .where(RematchRequest.profile_id == profile.id)
        .order_by(RematchRequest.id.desc())
    )
    assert request is not None and request.status == RequestStatus.DONE
    live = matching.live_run(session)
    assert live is not None
    terms = session.scalars(
        select(Match.terms).where(Match.run_id == live.id, Match.ca_profile_id == profile.id)
    ).all()
    canadian_words = [ca.lower() for pair_terms in terms for _, ca in pair_terms]
    assert any("sodium" in words or "grid" in words for words in canadian_words)
    assert "updated" in client.get("/matches/").get_data(as_text=True)


def test_invalid_profile_edit_keeps_what_was_typed(client: FlaskClient) -> None:
    login(client, FOUNDER)
    response = client.post(
        "/profile/edit",
        data={"title": "My kept title", "summary": "", "fields": [], "availability": "open"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "My kept title" in page
    assert 'aria-invalid="true"' in page


def test_forms_without_a_csrf_token_are_refused(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post("/login", data={"email": RESEARCHER, "password": demo.DEMO_PASSWORD})
    assert response.status_code == 400


def test_language_switcher_changes_the_interface_language(client: FlaskClient) -> None:
    page = client.get("/?lang=fr").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Semi-conducteurs" in page
