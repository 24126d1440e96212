"""Arbitrary JSON sent to PUT /api/v1/profile: never a server error, and a refused body
writes nothing at all."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import AuditEvent, Organization, Profile, RematchRequest
from tests.web.test_api import RESEARCHER, bearer, make_token

VALID: dict[str, Any] = {
    "kind": "researcher",
    "organization_name": "Fuzz University",
    "organization_kind": "university",
    "region": "JP-13",
    "title": "Quantum error correction",
    "summary": "Surface codes and decoders for superconducting qubits.",
    "fields": ["quantum"],
}
WORDS = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=12)
# Valid values for the optional fields: mutations below make the invalid ones.
OPTIONAL = {
    "keywords": st.lists(WORDS, max_size=4),
    "language": st.sampled_from([None, "en", "ja", "fr"]),
    "availability": st.sampled_from(["open", "paused"]),
    "staff_count": st.one_of(st.none(), st.integers(1, 10_000_000)),
    "founded_year": st.one_of(st.none(), st.integers(1600, 2020)),
    "website": st.sampled_from(["", "https://x.example"]),
    "seeking": st.lists(st.sampled_from(["researcher", "startup", "sme"]), max_size=3),
    "collaboration_types": st.lists(st.sampled_from(["joint_rd", "licensing"]), max_size=2),
    "orcid": st.sampled_from(["", "0000-0002-1825-0097"]),
    "title": WORDS.filter(str.strip),
    "region": st.sampled_from(["JP-01", "JP-47", "CA-QC", "CA-NU"]),
}
MUTATIONS = st.sampled_from(
    [
        "XX-99",
        "de",
        "closed",
        -5,
        20_000_000,
        2200,
        "ftp://x",
        ["bank"],
        "0000-0002-1825-0098",
        "",
        " ",
        "x" * 301,
        "\x00",
        None,
        1.5,
        True,
        [],
        {},
    ]
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def near_valid(draw: st.DrawFn) -> dict[str, Any]:
    """A valid body with some fields changed, dropped or added."""
    body = dict(VALID)
    for name in draw(st.lists(st.sampled_from(sorted(OPTIONAL)), max_size=4, unique=True)):
        body[name] = draw(OPTIONAL[name])
    for name in draw(st.lists(st.sampled_from(sorted(body)), max_size=2, unique=True)):
        choice = draw(st.integers(0, 2))
        if choice == 0:
            del body[name]
        else:
            body[name] = draw(MUTATIONS if choice == 1 else json_values)
    if draw(st.integers(0, 9)) == 9:
        body[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
    return body


bodies = (
    near_valid()
    | near_valid()
    | json_values
    | st.dictionaries(st.sampled_from(sorted(VALID)), json_values)
)


def _written(session: Session) -> tuple[int, ...]:
    """Counts that any write by PUT /profile changes."""
    return tuple(
        session.scalar(select(func.count()).select_from(table)) or 0
        for table in (Profile, Organization, RematchRequest, AuditEvent)
    )


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_api_put_profile_never_fails_and_never_half_writes(
    app: Flask, client: FlaskClient, session: Session, body: Any
) -> None:
    # Fixtures are made once for all examples: so is the token.
    if "FUZZ_TOKEN" not in app.config:
        app.config["API_RATE_LIMIT"] = "100000 per minute"
        app.config["FUZZ_TOKEN"] = make_token(session, RESEARCHER, ["read", "write"])
    secret = app.config["FUZZ_TOKEN"]
    before = client.get("/api/v1/profile", headers=bearer(secret)).get_json()
    counts = _written(session)
    response = client.put(
        "/api/v1/profile",
        data=json.dumps(body),
        content_type="application/json",
        headers=bearer(secret),
    )
    assert response.status_code < 500, response.get_data(as_text=True)
    event(f"status {response.status_code}")
    after = client.get("/api/v1/profile", headers=bearer(secret)).get_json()
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"
        problem = response.get_json()
        assert problem["status"] == response.status_code
        if response.status_code == 422:
            assert problem["errors"] and all(e["field"] and e["message"] for e in problem["errors"])
        assert after == before
        assert _written(session) == counts
    else:
        assert response.status_code == 200
        assert response.get_json() == after
