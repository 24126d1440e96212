"""Officers' review: the queue's filters, decisions and their history, bulk decisions,
conflicts of interest, approval of introductions that wait for it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import InvalidInput, PermissionDenied
from core.links import Links
from core.models import (
    AuditEvent,
    Decision,
    Introduction,
    IntroductionStatus,
    Match,
    PairDecision,
    ReasonCode,
    ReviewStatus,
    Role,
    User,
)
from core.services import demo, matching, reviews
from core.services.reviews import QueueFilters
from tests.factories import make_user

LINKS = Links(base_url="https://match.example", secret_key="test-secret-key")


@pytest.fixture
def officer(session: Session) -> User:
    return make_user(session, role=Role.OFFICER)


def _live_pairs(session: Session, limit: int = 5) -> list[Match]:
    live = matching.live_run(session)
    assert live is not None
    query = select(Match).where(Match.run_id == live.id).order_by(Match.score.desc()).limit(limit)
    return list(session.scalars(query))


def test_the_queue_pages_through_every_live_pair_best_first(session: Session) -> None:
    live = matching.live_run(session)
    assert live is not None
    total = session.scalar(select(func.count()).select_from(Match).where(Match.run_id == live.id))
    first = reviews.review_queue(session, QueueFilters())
    assert first.total == total and len(first.rows) == reviews.PAGE_SIZE
    scores = [row.match.score for row in first.rows]
    assert scores == sorted(scores, reverse=True)
    last = reviews.review_queue(session, QueueFilters(), page=first.pages)
    assert last.rows and last.rows[-1].match.score <= scores[-1]


def test_a_count_limit_stops_the_count_and_the_paging_at_the_limit(session: Session) -> None:
    exact = reviews.review_queue(session, QueueFilters())
    assert exact.total > 120 and not exact.total_is_lower_bound
    capped = reviews.review_queue(session, QueueFilters(), page=99, count_limit=120)
    assert capped.total == 120 and capped.total_is_lower_bound
    assert capped.pages == 3 and capped.page == 3  # paging stops at the limit's last page
    assert [r.match.id for r in capped.rows] == [
        r.match.id for r in reviews.review_queue(session, QueueFilters(), page=3).rows
    ]
    # Under the limit the count is exact, and says so.
    few = QueueFilters(field="quantum", min_score=0.3)
    under = reviews.review_queue(session, few, count_limit=exact.total)
    assert under.total == reviews.review_queue(session, few).total
    assert not under.total_is_lower_bound
    # Exactly at the limit is not "more than" the limit.
    at = reviews.review_queue(session, few, count_limit=under.total)
    assert at.total == under.total and not at.total_is_lower_bound


def test_queue_filters_combine(session: Session) -> None:
    filters = QueueFilters(field="quantum", min_score=0.2, pair_kind="researcher-startup")
    result = reviews.review_queue(session, filters)
    assert result.rows
    for row in result.rows:
        match = row.match
        assert match.field.code == "quantum" and match.score >= 0.2
        assert match.jp_profile.kind.value == "researcher"
        assert match.ca_profile.kind.value == "startup"
    region = result.rows[0].match.ca_profile.region
    narrowed = reviews.review_queue(session, QueueFilters(region=region))
    assert all(
        region in (r.match.jp_profile.region, r.match.ca_profile.region) for r in narrowed.rows
    )


def test_a_decision_changes_the_status_and_is_kept_in_history_and_audit(
    session: Session, officer: User
) -> None:
    pair = _live_pairs(session, 1)[0]
    ids = {"jp_id": pair.jp_profile_id, "ca_id": pair.ca_profile_id}
    reviews.decide(session, officer=officer, decision=Decision.SHORTLIST, links=LINKS, **ids)
    review = reviews.decide(
        session,
        officer=officer,
        decision=Decision.REJECT,
        reason_code=ReasonCode.DUPLICATE,
        note="Same team as another pair",
        links=LINKS,
        **ids,
    )
    assert review is not None and review.status == ReviewStatus.REJECTED
    history = session.scalars(
        select(PairDecision).where(PairDecision.jp_profile_id == pair.jp_profile_id)
    ).all()
    assert [(d.previous_status, d.new_status) for d in history] == [
        (None, "shortlisted"),
        ("shortlisted", "rejected"),
    ]
    audited = session.scalar(
        select(AuditEvent).where(AuditEvent.action == "pair.reject").order_by(AuditEvent.id.desc())
    )
    assert audited is not None and audited.actor_id == officer.id
    assert audited.details["previous"] == "shortlisted" and audited.details["new"] == "rejected"
    rejected = reviews.review_queue(session, QueueFilters(review_status="rejected"))
    assert [(r.match.jp_profile_id, r.match.ca_profile_id) for r in rejected.rows] == [
        (pair.jp_profile_id, pair.ca_profile_id)
    ] * len(rejected.rows)


def test_rejecting_needs_a_reason(session: Session, officer: User) -> None:
    pair = _live_pairs(session, 1)[0]
    with pytest.raises(InvalidInput) as error:
        reviews.decide(
            session,
            officer=officer,
            jp_id=pair.jp_profile_id,
            ca_id=pair.ca_profile_id,
            decision=Decision.REJECT,
            links=LINKS,
        )
    assert "reason_code" in error.value.errors


def test_a_declared_conflict_blocks_decisions(session: Session, officer: User) -> None:
    pair = _live_pairs(session, 1)[0]
    reviews.declare_conflict(
        session, officer=officer, organization_id=pair.ca_profile.organization_id
    )
    with pytest.raises(PermissionDenied):
        reviews.decide(
            session,
            officer=officer,
            jp_id=pair.jp_profile_id,
            ca_id=pair.ca_profile_id,
            decision=Decision.APPROVE,
            links=LINKS,
        )
    others = _live_pairs(session, 40)
    free = next(
        p
        for p in others
        if pair.ca_profile.organization_id
        not in (p.jp_profile.organization_id, p.ca_profile.organization_id)
    )
    result = reviews.decide_many(
        session,
        officer=officer,
        pairs=[(pair.jp_profile_id, pair.ca_profile_id), (free.jp_profile_id, free.ca_profile_id)],
        decision=Decision.SHORTLIST,
        links=LINKS,
    )
    assert result.done == 1 and len(result.refused) == 1
    reviews.withdraw_conflict(
        session, officer=officer, organization_id=pair.ca_profile.organization_id
    )
    assert (
        reviews.decide(
            session,
            officer=officer,
            jp_id=pair.jp_profile_id,
            ca_id=pair.ca_profile_id,
            decision=Decision.APPROVE,
            links=LINKS,
        )
        is not None
    )


def test_approving_releases_an_introduction_waiting_for_it(session: Session, officer: User) -> None:
    pair = _live_pairs(session, 1)[0]
    waiting = Introduction(
        jp_profile_id=pair.jp_profile_id,
        ca_profile_id=pair.ca_profile_id,
        status=IntroductionStatus.AWAITING_APPROVAL,
    )
    session.add(waiting)
    session.flush()
    reviews.decide(
        session,
        officer=officer,
        jp_id=pair.jp_profile_id,
        ca_id=pair.ca_profile_id,
        decision=Decision.APPROVE,
        links=LINKS,
    )
    assert waiting.status == IntroductionStatus.INTRODUCED
    assert waiting.approved_by == officer.id and waiting.introduced_at is not None


def test_the_csv_export_has_every_filtered_pair_and_no_contact_details(session: Session) -> None:
    filters = QueueFilters(field="quantum")
    lines = "".join(reviews.queue_csv(session, filters)).splitlines()
    total = reviews.review_queue(session, filters).total
    assert len(lines) == total + 1
    assert lines[0].startswith("field,score")
    researcher = session.scalar(select(User).where(User.email == demo.DEMO_ACCOUNTS[0].email))
    assert researcher is not None
    assert all(researcher.email not in line for line in lines)
