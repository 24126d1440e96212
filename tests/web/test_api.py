"""The /api/v1 resources through the test client: profiles, matches (without a contact
leak), the review queue and decisions, grant calls, runs; scopes, IDOR and cursors."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import (
    Interest,
    InterestState,
    Match,
    MatchRun,
    OfficerConflict,
    PairReview,
    Profile,
    ReviewStatus,
    RunKind,
    RunStatus,
    utcnow,
)
from core.services import calls, demo, introductions, matching, profiles, reviews, tokens
from core.services.reviews import QueueFilters
from web.api import cursors

RESEARCHER, FOUNDER, OFFICER = (account.email for account in demo.DEMO_ACCOUNTS)
ALL = ("read", "write", "officer")


@pytest.fixture(autouse=True)
def walks_are_not_abuse(app: Flask) -> None:
    """Walking thousands of pairs page by page is what these tests do on purpose; the
    rate limit itself is tested in test_api_tokens.py."""
    app.config["API_RATE_LIMIT"] = "100000 per minute"


def make_token(session: Session, email: str, scopes: Iterable[str] = ("read",)) -> str:
    """A new token's secret for the account ``email`` (flushed, visible to the app)."""
    user = tokens.account_for(session, email=email)
    new = tokens.create_token(
        session, user=user, name="test", scopes=list(scopes), expires_in_days=None
    )
    return new.secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with ``status``; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = json.loads(response.get_data(as_text=True))
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    assert body["detail"]
    return dict(body)


def own_profile(session: Session, email: str) -> Profile:
    profile = profiles.profile_of(session, tokens.account_for(session, email=email).id)
    assert profile is not None
    return profile


def walk(client: FlaskClient, url: str, secret: str) -> tuple[list[dict[str, Any]], int]:
    """Every item of a cursor-paginated listing, and the number of pages read."""
    items: list[dict[str, Any]] = []
    pages = 0
    cursor = None
    separator = "&" if "?" in url else "?"
    while True:
        pages += 1
        address = url if cursor is None else f"{url}{separator}cursor={cursor}"
        response = client.get(address, headers=bearer(secret))
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages
        assert pages < 1000


# --- Profiles ------------------------------------------------------------------------------


def test_api_profile_is_the_tokens_owners_own(client: FlaskClient, session: Session) -> None:
    secret = make_token(session, RESEARCHER)
    response = client.get("/api/v1/profile", headers=bearer(secret))
    assert response.status_code == 200
    body = response.get_json()
    mine = own_profile(session, RESEARCHER)
    assert body["id"] == mine.id
    assert body["contact"]["email"] == RESEARCHER  # one's own details are one's own
    assert body["organization"]["name"] == mine.organization.name
    assert response.headers["Cache-Control"] == "no-store"


def test_api_registrant_cannot_read_another_profile_whether_or_not_it_exists(
    client: FlaskClient, session: Session
) -> None:
    secret = make_token(session, RESEARCHER)
    founders = own_profile(session, FOUNDER)
    other = assert_problem(
        client.get(f"/api/v1/profiles/{founders.id}", headers=bearer(secret)), 404
    )
    missing = assert_problem(client.get("/api/v1/profiles/99999999", headers=bearer(secret)), 404)
    assert other["detail"].replace(str(founders.id), "N") == missing["detail"].replace(
        "99999999", "N"
    )
    assert FOUNDER not in json.dumps(other)
    mine = own_profile(session, RESEARCHER)
    assert client.get(f"/api/v1/profiles/{mine.id}", headers=bearer(secret)).status_code == 200


def test_api_officers_read_any_profile_only_with_the_officer_scope(
    client: FlaskClient, session: Session
) -> None:
    founders = own_profile(session, FOUNDER)
    with_scope = make_token(session, OFFICER, ALL)
    response = client.get(f"/api/v1/profiles/{founders.id}", headers=bearer(with_scope))
    assert response.status_code == 200
    assert response.get_json()["contact"]["email"] == FOUNDER
    read_only = make_token(session, OFFICER, ["read"])
    assert_problem(client.get(f"/api/v1/profiles/{founders.id}", headers=bearer(read_only)), 404)


def _profile_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "researcher",
        "organization_name": "Tohoku Quantum Lab",
        "organization_kind": "university",
        "region": "JP-04",
        "title": "Superconducting qubit readout",
        "summary": "We build cryogenic CMOS readout for superconducting qubits and want a partner.",
        "fields": ["quantum"],
        "keywords": ["qubit", " qubit ", "", "cryo-CMOS"],
        "seeking": ["startup"],
        "collaboration_types": ["joint_rd"],
        "staff_count": 40,
        "founded_year": 1990,
        "website": "https://lab.example.org",
        "orcid": "",
        "language": "en",
        "availability": "open",
    }
    body.update(overrides)
    return body


def test_api_put_profile_replaces_the_profile_and_requests_a_rematch(
    client: FlaskClient, session: Session
) -> None:
    secret = make_token(session, RESEARCHER, ["read", "write"])
    response = client.put("/api/v1/profile", json=_profile_body(), headers=bearer(secret))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["title"] == "Superconducting qubit readout"
    assert body["keywords"] == ["qubit", "cryo-CMOS"]
    assert body["organization"]["name"] == "Tohoku Quantum Lab"
    assert body["region"] == "JP-04" and body["country"] == "JP"
    assert client.get("/api/v1/profile", headers=bearer(secret)).get_json() == body


def test_api_put_profile_creates_one_for_a_new_registrant(
    client: FlaskClient, session: Session
) -> None:
    from tests.factories import make_user

    user = make_user(session, email="newcomer@tests.example")
    secret = tokens.create_token(
        session, user=user, name="t", scopes=["read", "write"], expires_in_days=None
    ).secret
    assert_problem(client.get("/api/v1/profile", headers=bearer(secret)), 404)
    response = client.put("/api/v1/profile", json=_profile_body(), headers=bearer(secret))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers["Location"] == "/api/v1/profile"
    assert response.get_json()["consented"] is False
    # Without consent nothing is proposed: the answer says what to do.
    conflict = assert_problem(client.get("/api/v1/matches", headers=bearer(secret)), 409)
    assert "consent" in conflict["detail"].lower()


def test_api_put_profile_names_each_bad_field_and_writes_nothing(
    client: FlaskClient, session: Session
) -> None:
    secret = make_token(session, RESEARCHER, ["read", "write"])
    before = client.get("/api/v1/profile", headers=bearer(secret)).get_json()
    bad = _profile_body(region="XX-99", fields=["astrology"], title="  ", staff_count=0)
    problem = assert_problem(client.put("/api/v1/profile", json=bad, headers=bearer(secret)), 422)
    assert problem["errors"] == [
        {"field": "staff_count", "message": "Input should be greater than or equal to 1"}
    ]
    bad = _profile_body(region="XX-99", fields=["astrology"], title="  ")
    problem = assert_problem(client.put("/api/v1/profile", json=bad, headers=bearer(secret)), 422)
    fields = {error["field"]: error["message"] for error in problem["errors"]}
    assert set(fields) == {"region", "fields", "title"}
    assert fields["title"] == "Give your profile a title."
    assert fields["fields"] == "Choose fields from the list."
    unknown = assert_problem(
        client.put("/api/v1/profile", json=_profile_body(colour="red"), headers=bearer(secret)),
        422,
    )
    assert unknown["errors"] == [
        {"field": "colour", "message": "This field is not expected here; remove it."}
    ]
    typed = assert_problem(
        client.put("/api/v1/profile", json=_profile_body(staff_count="40"), headers=bearer(secret)),
        422,
    )
    assert typed["errors"][0]["field"] == "staff_count"  # "40" is not a JSON number
    assert client.get("/api/v1/profile", headers=bearer(secret)).get_json() == before


def test_api_messages_follow_accept_language(client: FlaskClient, session: Session) -> None:
    secret = make_token(session, RESEARCHER, ["read", "write"])
    headers = {**bearer(secret), "Accept-Language": "ja"}
    problem = assert_problem(
        client.put("/api/v1/profile", json=_profile_body(title=" "), headers=headers), 422
    )
    assert problem["errors"][0]["field"] == "title"
    assert problem["errors"][0]["message"] != "Give your profile a title."


# --- Scopes --------------------------------------------------------------------------------


def test_api_read_token_cannot_write(client: FlaskClient, session: Session) -> None:
    secret = make_token(session, RESEARCHER, ["read"])
    response = client.put("/api/v1/profile", json=_profile_body(), headers=bearer(secret))
    problem = assert_problem(response, 403)
    assert problem["type"].endswith("#problem-insufficient-scope")
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert 'scope="write"' in response.headers["WWW-Authenticate"]


OFFICER_ONLY = [
    ("GET", "/api/v1/pairs"),
    ("GET", "/api/v1/pairs/1-2"),
    ("POST", "/api/v1/pairs/1-2/decisions"),
    ("GET", "/api/v1/calls"),
    ("GET", "/api/v1/calls/1"),
    ("GET", "/api/v1/calls/1/pairs"),
    ("GET", "/api/v1/runs"),
    ("GET", "/api/v1/runs/1"),
    ("POST", "/api/v1/runs"),
]


@pytest.mark.parametrize(("method", "path"), OFFICER_ONLY)
def test_api_registrant_tokens_cannot_use_officer_operations(
    client: FlaskClient, session: Session, method: str, path: str
) -> None:
    secret = make_token(session, RESEARCHER, ["read", "write"])
    response = client.open(path, method=method, headers=bearer(secret), json={"decision": "note"})
    assert_problem(response, 403)


def test_api_officer_token_without_the_officer_scope_is_refused_officer_operations(
    client: FlaskClient, session: Session
) -> None:
    secret = make_token(session, OFFICER, ["read", "write"])
    for method, path in OFFICER_ONLY:
        response = client.open(
            path, method=method, headers=bearer(secret), json={"decision": "note"}
        )
        assert_problem(response, 403)


# --- A registrant's matches -----------------------------------------------------------------


def _hidden_details(session: Session, email: str) -> dict[int, list[str]]:
    """Each proposed partner's name, email and organization name."""
    mine = own_profile(session, email)
    return {
        proposal.partner.id: [
            proposal.partner.contact_name,
            proposal.partner.contact_email,
            proposal.partner.organization.name,
        ]
        for proposal in introductions.proposals_for(session, mine)
    }


@pytest.mark.parametrize("email", [RESEARCHER, FOUNDER])
def test_api_matches_never_show_a_partners_contact_before_an_introduction(
    client: FlaskClient, session: Session, email: str
) -> None:
    hidden = _hidden_details(session, email)
    assert hidden
    secret = make_token(session, email)
    items, _ = walk(client, "/api/v1/matches?limit=5", secret)
    assert {item["partner"]["id"] for item in items} == set(hidden)
    assert all(item["partner"]["contact"] is None for item in items)
    text = json.dumps(items, ensure_ascii=False)
    for details in hidden.values():
        for secret_text in details:
            assert secret_text and secret_text not in text


def test_api_an_introduction_shows_that_partners_contact_only(
    client: FlaskClient, session: Session
) -> None:
    mine = own_profile(session, RESEARCHER)
    secret = make_token(session, RESEARCHER, ["read", "write"])
    first = client.get("/api/v1/matches?limit=1", headers=bearer(secret)).get_json()["items"][0]
    partner = session.get(Profile, first["partner"]["id"])
    assert partner is not None
    # The partner already said interested; the researcher says so through the API.
    session.add(
        Interest(profile_id=partner.id, partner_profile_id=mine.id, state=InterestState.INTERESTED)
    )
    session.flush()
    answer = client.put(
        f"/api/v1/matches/{partner.id}/answer",
        json={"state": "interested"},
        headers=bearer(secret),
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["introduction"] == "introduced"
    items, _ = walk(client, "/api/v1/matches?limit=50", secret)
    introduced = [item for item in items if item["partner"]["contact"] is not None]
    assert [item["partner"]["id"] for item in introduced] == [partner.id] * len(introduced)
    contact = introduced[0]["partner"]["contact"]
    assert contact["email"] == partner.contact_email
    assert contact["organization_name"] == partner.organization.name
    assert introduced[0]["introduction"] == "introduced"
    assert introduced[0]["answer"]["state"] == "interested"


def test_api_answering_an_unproposed_partner_is_404(client: FlaskClient, session: Session) -> None:
    secret = make_token(session, RESEARCHER, ["read", "write"])
    founders = own_profile(session, FOUNDER)
    response = client.put(
        f"/api/v1/matches/{founders.id}/answer",
        json={"state": "saved"},
        headers=bearer(secret),
    )
    assert_problem(response, 404)


def test_api_matches_filters_and_pages_walk_every_proposal_once(
    client: FlaskClient, session: Session
) -> None:
    secret = make_token(session, FOUNDER)
    everything, pages = walk(client, "/api/v1/matches?limit=4", secret)
    ids = [item["match_id"] for item in everything]
    assert len(ids) == len(set(ids)) == len(_hidden_details(session, FOUNDER))
    assert pages == -(-len(ids) // 4)
    scores = [item["score"] for item in everything]
    assert scores == sorted(scores, reverse=True)
    field = everything[0]["field"]
    filtered, _ = walk(client, f"/api/v1/matches?limit=3&field={field}", secret)
    assert filtered and all(item["field"] == field for item in filtered)


# --- Officers: the queue, a pair, decisions -------------------------------------------------


def _live_count(session: Session, **filters: Any) -> int:
    return reviews.review_queue(session, QueueFilters(**filters)).total


@pytest.mark.parametrize(
    "query",
    ["limit=50", "limit=40&sort=-score", "limit=7&field=quantum", "limit=9&min_score=0.3"],
)
def test_api_queue_cursors_walk_every_pair_once(
    client: FlaskClient, session: Session, query: str
) -> None:
    secret = make_token(session, OFFICER, ALL)
    first = client.get(f"/api/v1/pairs?{query}", headers=bearer(secret)).get_json()
    items, _ = walk(client, f"/api/v1/pairs?{query}", secret)
    ids = [item["match_id"] for item in items]
    assert len(ids) == len(set(ids)) == first["total"]
    ordered = [item["score"] for item in items]
    descending = "sort=-score" not in query
    assert ordered == sorted(ordered, reverse=descending)
    filters: dict[str, Any] = {}
    if "field=" in query:
        filters["field"] = "quantum"
    if "min_score" in query:
        filters["min_score"] = 0.3
    assert first["total"] == _live_count(session, **filters)
    assert "@" not in json.dumps(items)  # no contact details in the queue


def test_api_queue_cursor_handles_ties_in_score(client: FlaskClient, session: Session) -> None:
    live = matching.live_run(session)
    assert live is not None
    tied = session.scalars(
        select(Match).where(Match.run_id == live.id).order_by(Match.id).limit(60)
    ).all()
    for match in tied:
        match.score = 0.987654
    session.flush()
    secret = make_token(session, OFFICER, ALL)
    items, _ = walk(client, "/api/v1/pairs?limit=7&min_score=0.98", secret)
    ids = [item["match_id"] for item in items]
    assert len(ids) == len(set(ids)) == _live_count(session, min_score=0.98)
    assert {m.id for m in tied} <= set(ids)


def test_api_queue_refuses_foreign_and_stale_cursors(client: FlaskClient, session: Session) -> None:
    secret = make_token(session, OFFICER, ALL)
    for cursor in ("not-a-cursor", cursors.encode("calls", (1, 2))):
        problem = assert_problem(
            client.get(f"/api/v1/pairs?cursor={cursor}", headers=bearer(secret)), 422
        )
        assert problem["errors"][0]["field"] == "cursor"
    first = client.get("/api/v1/pairs?limit=2", headers=bearer(secret)).get_json()
    other_sort = client.get(
        f"/api/v1/pairs?limit=2&sort=-score&cursor={first['next_cursor']}", headers=bearer(secret)
    )
    assert_problem(other_sort, 422)
    stale = cursors.encode("pairs", (0.5, 1), s="score", r=-1)
    problem = assert_problem(
        client.get(f"/api/v1/pairs?cursor={stale}", headers=bearer(secret)), 409
    )
    assert problem["type"].endswith("#problem-cursor-expired")


def test_api_queue_validates_its_filters(client: FlaskClient, session: Session) -> None:
    secret = make_token(session, OFFICER, ALL)
    problem = assert_problem(
        client.get(
            "/api/v1/pairs?min_score=abc&status=maybe&limit=0&call_id=99999&colour=red",
            headers=bearer(secret),
        ),
        422,
    )
    assert {e["field"] for e in problem["errors"]} == {
        "min_score",
        "status",
        "limit",
        "colour",
    }
    no_call = assert_problem(client.get("/api/v1/pairs?call_id=99999", headers=bearer(secret)), 422)
    assert no_call["errors"][0]["field"] == "call_id"
    twice = assert_problem(client.get("/api/v1/pairs?limit=1&limit=2", headers=bearer(secret)), 422)
    assert twice["errors"] == [{"field": "limit", "message": "Give this parameter once."}]


def _best_pair(session: Session) -> Match:
    live = matching.live_run(session)
    assert live is not None
    match = session.scalar(
        select(Match).where(Match.run_id == live.id).order_by(Match.score.desc()).limit(1)
    )
    assert match is not None
    return match


def test_api_pair_detail_and_decisions(client: FlaskClient, session: Session) -> None:
    match = _best_pair(session)
    pair = f"/api/v1/pairs/{match.jp_profile_id}-{match.ca_profile_id}"
    secret = make_token(session, OFFICER, ALL)
    detail = client.get(pair, headers=bearer(secret)).get_json()
    assert detail["jp"]["id"] == match.jp_profile_id and detail["status"] == "none"
    assert match.id in [m["match_id"] for m in detail["live_matches"]]

    missing_reason = assert_problem(
        client.post(f"{pair}/decisions", json={"decision": "reject"}, headers=bearer(secret)),
        422,
    )
    assert missing_reason["errors"] == [
        {"field": "reason_code", "message": "Choose a reason for rejecting."}
    ]
    response = client.post(
        f"{pair}/decisions",
        json={"decision": "approve", "note": "Strong fit"},
        headers=bearer(secret),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["review"]["status"] == "approved"
    assert body["decision"]["decision"] == "approve" and body["decision"]["note"] == "Strong fit"
    review = session.scalar(
        select(PairReview).where(
            PairReview.jp_profile_id == match.jp_profile_id,
            PairReview.ca_profile_id == match.ca_profile_id,
        )
    )
    assert review is not None and review.status == ReviewStatus.APPROVED
    approved, _ = walk(client, "/api/v1/pairs?status=approved", secret)
    assert match.id in [item["match_id"] for item in approved]
    assert client.get(pair, headers=bearer(secret)).get_json()["status"] == "approved"


def test_api_decisions_are_refused_on_conflict_and_for_unknown_pairs(
    client: FlaskClient, session: Session
) -> None:
    match = _best_pair(session)
    officer = tokens.account_for(session, email=OFFICER)
    session.add(
        OfficerConflict(officer_id=officer.id, organization_id=match.jp_profile.organization_id)
    )
    session.flush()
    secret = make_token(session, OFFICER, ALL)
    pair = f"/api/v1/pairs/{match.jp_profile_id}-{match.ca_profile_id}"
    conflict = assert_problem(
        client.post(f"{pair}/decisions", json={"decision": "approve"}, headers=bearer(secret)),
        403,
    )
    assert "conflict of interest" in conflict["detail"]
    assert_problem(
        client.post(
            "/api/v1/pairs/99999998-99999999/decisions",
            json={"decision": "approve"},
            headers=bearer(secret),
        ),
        404,
    )
    assert_problem(client.get("/api/v1/pairs/99999998-99999999", headers=bearer(secret)), 404)
    assert_problem(client.get("/api/v1/pairs/0-1", headers=bearer(secret)), 404)
    assert_problem(client.get(f"/api/v1/pairs/{2**40}-1", headers=bearer(secret)), 404)


# --- Grant calls ----------------------------------------------------------------------------


def test_api_calls_and_their_pairs(client: FlaskClient, session: Session) -> None:
    officer = tokens.account_for(session, email=OFFICER)
    today = date.today()
    call = calls.create_call(
        session,
        officer=officer,
        details=calls.CallDetails(
            title="Quantum bridge",
            field_codes=["quantum", "semiconductors"],
            opens_on=today,
            closes_on=today + timedelta(days=30),
            max_proposals_per_profile=2,
        ),
    )
    session.flush()
    secret = make_token(session, OFFICER, ALL)
    listed, _ = walk(client, "/api/v1/calls?limit=1", secret)
    assert call.id in [item["id"] for item in listed]
    one = client.get(f"/api/v1/calls/{call.id}", headers=bearer(secret)).get_json()
    assert one["title"] == "Quantum bridge" and one["opens_on"] == today.isoformat()
    eligible, _ = walk(client, f"/api/v1/calls/{call.id}/pairs?limit=15", secret)
    expected = calls.call_pairs(session, call, include_ineligible=False)
    assert [p["match_id"] for p in eligible] == [p.match.id for p in expected]
    assert all(p["eligible"] and not p["reasons"] for p in eligible)
    everything, _ = walk(
        client, f"/api/v1/calls/{call.id}/pairs?limit=100&include_ineligible=true", secret
    )
    assert len(everything) == len(calls.call_pairs(session, call, include_ineligible=True))
    assert any(p["reasons"] for p in everything if not p["eligible"])
    assert_problem(client.get("/api/v1/calls/99999999", headers=bearer(secret)), 404)
    assert_problem(client.get("/api/v1/calls/99999999/pairs", headers=bearer(secret)), 404)


# --- Runs -----------------------------------------------------------------------------------


def test_api_runs_list_and_detail(client: FlaskClient, session: Session) -> None:
    for _ in range(3):
        session.add(
            MatchRun(
                kind=RunKind.INCREMENTAL,
                status=RunStatus.SUCCEEDED,
                started_at=utcnow(),
                finished_at=utcnow(),
            )
        )
    session.flush()
    secret = make_token(session, OFFICER, ALL)
    items, pages = walk(client, "/api/v1/runs?limit=2", secret)
    ids = [item["id"] for item in items]
    assert ids == sorted(set(ids), reverse=True)
    assert len(ids) == len(matching.latest_runs(session, limit=10_000))
    assert pages >= 2
    live = matching.live_run(session)
    assert live is not None
    detail = client.get(f"/api/v1/runs/{live.id}", headers=bearer(secret)).get_json()
    assert detail["is_live"] is True and detail["kind"] == "full"
    assert_problem(client.get("/api/v1/runs/99999999", headers=bearer(secret)), 404)


def test_api_starting_a_full_rematch_while_one_runs_is_409(
    client: FlaskClient, session: Session
) -> None:
    running = MatchRun(kind=RunKind.FULL, status=RunStatus.RUNNING, started_at=utcnow())
    session.add(running)
    session.flush()
    secret = make_token(session, OFFICER, ALL)
    response = client.post("/api/v1/runs", headers=bearer(secret))
    problem = assert_problem(response, 409)
    assert str(running.id) in problem["detail"]
    assert response.headers["Location"] == f"/api/v1/runs/{running.id}"
    read_only = make_token(session, OFFICER, ["read", "officer"])
    assert_problem(client.post("/api/v1/runs", headers=bearer(read_only)), 403)


def test_api_starts_a_full_rematch_without_a_broker(client: FlaskClient, session: Session) -> None:
    before = matching.live_run(session)
    assert before is not None
    secret = make_token(session, OFFICER, ALL)
    response = client.post("/api/v1/runs", headers=bearer(secret))
    assert response.status_code == 202, response.get_data(as_text=True)
    run = response.get_json()["run"]
    assert run["status"] == "succeeded" and run["is_live"] is True and run["id"] != before.id
    assert response.headers["Location"] == f"/api/v1/runs/{run['id']}"
