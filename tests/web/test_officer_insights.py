"""Officers' insights pages: statistics with server-drawn charts, what a rematch changed."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Field, Match, PairReview, Profile, ReviewStatus
from core.services import demo, matching, runs
from tests.conftest import TOP_K, login

RESEARCHER, _FOUNDER, OFFICER = (a.email for a in demo.DEMO_ACCOUNTS)
PAGES = ["/officer/statistics", "/officer/changes"]


def _without_tokens(page: str) -> str:
    # Each page signs a fresh CSRF token (for the log-out form).
    return re.sub(r'name="csrf_token" value="[^"]*"', "", page)


def _svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, flags=re.S)


def test_statistics_shows_every_field_with_svg_charts_and_tables(
    client: FlaskClient, session: Session
) -> None:
    login(client, OFFICER)
    response = client.get("/officer/statistics")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    for field in session.scalars(select(Field)):
        assert field.label_en in page
    charts = _svgs(page)
    assert len(charts) == 2
    for chart in charts:
        assert 'role="img"' in chart and "<title" in chart and "<desc" in chart
        assert "<text" in chart
    profiles, funnel = charts
    # Two legend keys, then a Japanese and a Canadian bar for each of the seven fields.
    assert profiles.count("<rect") == 2 + 2 * 7
    # At least the "proposed" bar of each field.
    assert funnel.count("<rect") >= 7
    # Nothing that a strict Content-Security-Policy or an offline network would stop.
    assert "<script" not in page and "<style" not in page and "style=" not in page
    assert not re.search(r"(src|href)=\"https?://", page)
    # The same numbers in tables, with the live run's pair count.
    assert page.count("<table") >= 3
    live = matching.live_run(session)
    assert live is not None
    assert f"Run {live.id}" in page


def test_statistics_in_japanese_uses_the_japanese_field_labels(client: FlaskClient) -> None:
    login(client, OFFICER)
    page = client.get("/officer/statistics?lang=ja").get_data(as_text=True)
    assert "量子" in page


def test_changes_without_an_earlier_run_says_there_is_nothing_to_compare(
    client: FlaskClient,
) -> None:
    login(client, OFFICER)
    response = client.get("/officer/changes")
    assert response.status_code == 200
    assert "no earlier full run to compare with" in response.get_data(as_text=True)


def test_changes_after_a_second_full_rematch_lists_per_field_and_kept_pairs(
    client: FlaskClient, session: Session
) -> None:
    previous = matching.live_run(session)
    assert previous is not None
    pair = session.scalar(
        select(Match)
        .where(Match.run_id == previous.id)
        .order_by(Match.jp_profile_id, Match.ca_profile_id)
        .limit(1)
    )
    assert pair is not None
    session.add(
        PairReview(
            jp_profile_id=pair.jp_profile_id,
            ca_profile_id=pair.ca_profile_id,
            status=ReviewStatus.APPROVED,
        )
    )
    edited = session.get(Profile, pair.jp_profile_id)
    assert edited is not None
    edited.title = "Occitan troubadour songbooks"
    edited.summary = "Palaeography of twelfth-century chansonniers and courtly love lyric"
    edited.keywords = []
    session.flush()
    partner = session.get(Profile, pair.ca_profile_id)
    assert partner is not None
    run = runs.run_full_rematch(session, top_k=TOP_K)

    login(client, OFFICER)
    response = client.get("/officer/changes")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert f"Full run {run.id}" in page and f"Compared with run {previous.id}" in page
    for field in session.scalars(select(Field)):
        assert field.label_en in page
    assert "Kept (no longer proposed)" in page and "Dropped pairs" in page
    assert "Occitan troubadour songbooks" in page and partner.title in page
    same_run = client.get(f"/officer/changes/{run.id}").get_data(as_text=True)
    assert _without_tokens(same_run) == _without_tokens(page)

    code = session.get(Field, pair.field_id).code  # type: ignore[union-attr]
    one_field = client.get(f"/officer/changes/{run.id}?field={code}&threshold=0.05")
    assert one_field.status_code == 200
    assert "Page 1 of" in one_field.get_data(as_text=True)
    # The first run has no run before it.
    first = client.get(f"/officer/changes/{previous.id}").get_data(as_text=True)
    assert "no earlier full run to compare with" in first


@pytest.mark.parametrize(
    "path",
    [
        "/officer/changes/999999",
        "/officer/changes?field=no_such_field",
    ],
)
def test_changes_of_an_unknown_run_or_field_is_not_found(client: FlaskClient, path: str) -> None:
    login(client, OFFICER)
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("threshold", ["-1", "2", "lots"])
def test_changes_refuses_a_threshold_outside_zero_to_one(
    client: FlaskClient, threshold: str
) -> None:
    login(client, OFFICER)
    assert client.get(f"/officer/changes?threshold={threshold}").status_code == 400


@pytest.mark.parametrize("path", PAGES)
def test_insights_pages_are_forbidden_to_registrants(client: FlaskClient, path: str) -> None:
    login(client, RESEARCHER)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_insights_pages_send_anonymous_visitors_to_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
