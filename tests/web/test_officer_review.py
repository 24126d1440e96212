"""The review queue, a pair's page, decisions and conflicts through the test client."""

from __future__ import annotations

import csv
import io

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import AuditEvent, Match, OfficerConflict, PairDecision, PairReview, ReviewStatus
from core.services import demo, matching, reviews
from core.services.reviews import QueueFilters
from tests.conftest import login
from web import officer_review

OFFICER = demo.DEMO_ACCOUNTS[2].email


def _best(session: Session, field: str | None = None) -> Match:
    live = matching.live_run(session)
    assert live is not None
    query = select(Match).where(Match.run_id == live.id).order_by(Match.score.desc())
    match = session.scalar(query.limit(1))
    assert match is not None
    return match


def test_the_queue_lists_pairs_best_first_with_filters(client: FlaskClient) -> None:
    login(client, OFFICER)
    page = client.get("/officer/pairs?field=quantum&min_score=0.1").get_data(as_text=True)
    assert "Review queue" in page and 'name="pair"' in page
    empty = client.get("/officer/pairs?min_score=1.5").get_data(as_text=True)
    assert "No pair matches these filters." in empty


def test_a_large_queue_says_more_than_the_count_limit(
    client: FlaskClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = matching.live_run(session)
    assert live is not None
    total = session.scalar(select(func.count()).select_from(Match).where(Match.run_id == live.id))
    assert total is not None and total > 100
    monkeypatch.setattr(officer_review, "QUEUE_COUNT_LIMIT", 100)
    login(client, OFFICER)
    page = client.get("/officer/pairs?page=7").get_data(as_text=True)
    assert "More than 100 pairs: the first 100 can be paged through here" in page
    assert "Page 2 of 2" in page
    few = next(
        (score, found.total)
        for score in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
        if 0 < (found := reviews.review_queue(session, QueueFilters(min_score=score))).total < 100
    )
    exact = client.get(f"/officer/pairs?min_score={few[0]}").get_data(as_text=True)
    assert "More than" not in exact and f"{few[1]} pairs." in exact


def test_bad_filter_values_are_ignored_not_errors(client: FlaskClient) -> None:
    login(client, OFFICER)
    for query in ("min_score=abc", "page=-4", "status=<script>", "region=XX", "call=x"):
        assert client.get(f"/officer/pairs?{query}").status_code == 200, query
    assert client.get("/officer/pairs?call=99999999").status_code == 404  # no such call


def test_the_pair_page_highlights_the_shared_terms_in_both_texts(
    client: FlaskClient, session: Session
) -> None:
    login(client, OFFICER)
    match = _best(session)
    page = client.get(f"/officer/pairs/{match.jp_profile_id}-{match.ca_profile_id}").get_data(
        as_text=True
    )
    assert match.jp_profile.title.split()[0] in page or match.jp_profile.title in page
    jp_word = match.terms[0][0]
    assert f"<mark>{jp_word}" in page or f"<mark>{jp_word.lower()}" in page.lower()
    assert "History across runs" in page


def test_deciding_on_a_pair_records_it(client: FlaskClient, session: Session) -> None:
    login(client, OFFICER)
    match = _best(session)
    url = f"/officer/pairs/{match.jp_profile_id}-{match.ca_profile_id}"
    missing_reason = client.post(url + "/decide", data={"decision": "reject", "reason_code": ""})
    assert missing_reason.status_code == 400
    assert "Choose a reason for rejecting." in missing_reason.get_data(as_text=True)
    response = client.post(url + "/decide", data={"decision": "approve", "note": "Strong fit"})
    assert response.status_code == 302
    review = session.scalar(
        select(PairReview).where(PairReview.jp_profile_id == match.jp_profile_id)
    )
    assert review is not None and review.status == ReviewStatus.APPROVED
    assert (
        client.get("/officer/pairs?status=approved").get_data(as_text=True).count('name="pair"')
        >= 1
    )


def test_bulk_decisions_apply_to_every_selected_pair(client: FlaskClient, session: Session) -> None:
    login(client, OFFICER)
    live = matching.live_run(session)
    assert live is not None
    pairs = session.scalars(select(Match).where(Match.run_id == live.id).limit(3)).all()
    response = client.post(
        "/officer/pairs/bulk",
        data={
            "pair": [f"{m.jp_profile_id}:{m.ca_profile_id}" for m in pairs],
            "decision": "shortlist",
            "back": "/officer/pairs?status=shortlisted",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/officer/pairs?status=shortlisted")
    decided = session.scalars(select(PairDecision)).all()
    assert len({(d.jp_profile_id, d.ca_profile_id) for d in decided}) == len(
        {(m.jp_profile_id, m.ca_profile_id) for m in pairs}
    )
    assert client.post("/officer/pairs/bulk", data={"pair": ["1;2"]}).status_code == 400


def test_a_conflict_of_interest_blocks_deciding_through_the_page(
    client: FlaskClient, session: Session
) -> None:
    login(client, OFFICER)
    match = _best(session)
    client.post(
        "/officer/conflicts", data={"organization_id": str(match.jp_profile.organization_id)}
    )
    assert session.scalar(select(OfficerConflict)) is not None
    url = f"/officer/pairs/{match.jp_profile_id}-{match.ca_profile_id}"
    assert "cannot decide on this pair" in client.get(url).get_data(as_text=True)
    response = client.post(url + "/decide", data={"decision": "approve"})
    assert response.status_code == 303
    assert session.scalar(select(PairReview)) is None


def test_the_queue_exports_as_csv_and_the_export_is_audited(
    client: FlaskClient, session: Session
) -> None:
    login(client, OFFICER)
    response = client.get("/officer/pairs.csv?field=quantum")
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows and {row["field"] for row in rows} == {"quantum"}
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "queue.exported"))
    assert event is not None and event.details == {"field": "quantum"}
