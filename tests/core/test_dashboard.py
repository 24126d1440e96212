"""Statistics per field: consented profiles, the pair funnel, freshness of the live pairs."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from core.models import (
    Availability,
    Country,
    Field,
    Interest,
    InterestState,
    Introduction,
    IntroductionStatus,
    Match,
    PairReview,
    Profile,
    ProfileKind,
    RematchRequest,
    RequestStatus,
    ReviewStatus,
    utcnow,
)
from core.services import dashboard, matching
from core.services.dashboard import PairFunnel, ProfileCounts, dashboard_stats
from tests.conftest import TOP_K
from tests.factories import make_profile


def _field(stats: dashboard.DashboardStats, code: str) -> dashboard.FieldStats:
    return next(f for f in stats.fields if f.field.code == code)


def _minus(after: PairFunnel, before: PairFunnel) -> PairFunnel:
    return PairFunnel(
        *(getattr(after, f.name) - getattr(before, f.name) for f in fields(PairFunnel))
    )


def _pairs_in_one_field(session: Session, count: int) -> list[Match]:
    """``count`` live pairs of the first field, each pair (Japanese, Canadian) only there."""
    live = matching.live_run(session)
    assert live is not None
    fields_of_pair = (
        select(Match.jp_profile_id, Match.ca_profile_id)
        .where(Match.run_id == live.id)
        .group_by(Match.jp_profile_id, Match.ca_profile_id)
        .having(func.count() == 1)
        .subquery()
    )
    first_field = session.scalar(select(Field.id).order_by(Field.position).limit(1))
    return list(
        session.scalars(
            select(Match)
            .join(
                fields_of_pair,
                (fields_of_pair.c.jp_profile_id == Match.jp_profile_id)
                & (fields_of_pair.c.ca_profile_id == Match.ca_profile_id),
            )
            .where(Match.run_id == live.id, Match.field_id == first_field)
            .order_by(Match.jp_profile_id, Match.ca_profile_id)
            .limit(count)
        )
    )


def _interest(session: Session, owner: int, partner: int, state: InterestState) -> None:
    session.add(Interest(profile_id=owner, partner_profile_id=partner, state=state))


def test_dashboard_counts_profiles_per_field_country_and_kind(session: Session) -> None:
    before = dashboard_stats(session)
    make_profile(
        session,
        country=Country.JP,
        kind=ProfileKind.STARTUP,
        summary="Trapped-ion quantum computers with photonic interconnects",
        fields=["quantum"],
    )
    make_profile(
        session,
        country=Country.JP,
        kind=ProfileKind.STARTUP,
        summary="Quantum sensing with nitrogen-vacancy centres in diamond",
        fields=["quantum"],
        consented=False,
    )
    paused = make_profile(
        session,
        country=Country.CA,
        summary="Cryogenic control electronics for superconducting qubits",
        fields=["quantum", "semiconductors"],
    )
    paused.availability = Availability.PAUSED
    session.flush()

    after = dashboard_stats(session)

    jp_startups = (Country.JP, ProfileKind.STARTUP)
    ca_researchers = (Country.CA, ProfileKind.RESEARCHER)
    quantum_before, quantum_after = _field(before, "quantum"), _field(after, "quantum")
    empty = ProfileCounts()
    assert quantum_after.profiles[jp_startups] == quantum_before.profiles.get(
        jp_startups, empty
    ) + ProfileCounts(open=1, not_consented=1)
    assert quantum_after.profiles[ca_researchers] == quantum_before.profiles.get(
        ca_researchers, empty
    ) + ProfileCounts(paused=1)
    semis_before, semis_after = _field(before, "semiconductors"), _field(after, "semiconductors")
    assert semis_after.profiles_of(Country.CA) == semis_before.profiles_of(
        Country.CA
    ) + ProfileCounts(paused=1)
    # Overall, a profile in two fields counts once.
    assert after.profiles[ca_researchers] == before.profiles[ca_researchers] + ProfileCounts(
        paused=1
    )
    assert after.profiles_of(Country.JP).consented == before.profiles_of(Country.JP).consented + 1
    assert after.profiles_of(Country.JP).not_consented == (
        before.profiles_of(Country.JP).not_consented + 1
    )
    # Only consented profiles are "consented"; the demo world has them all consented.
    total = session.scalar(select(func.count()).select_from(Profile))
    assert sum(c.consented + c.not_consented for c in after.profiles.values()) == total


def test_dashboard_funnel_counts_interest_introductions_and_reviews(session: Session) -> None:
    one_side, both, introduced, awaiting, rejected, approved = _pairs_in_one_field(session, 6)
    field_code = session.get(Field, one_side.field_id).code  # type: ignore[union-attr]
    before = dashboard_stats(session)

    _interest(session, one_side.jp_profile_id, one_side.ca_profile_id, InterestState.INTERESTED)
    _interest(session, both.jp_profile_id, both.ca_profile_id, InterestState.INTERESTED)
    _interest(session, both.ca_profile_id, both.jp_profile_id, InterestState.INTERESTED)
    # Neither "not now" nor "saved" is interest.
    _interest(session, approved.ca_profile_id, approved.jp_profile_id, InterestState.NOT_NOW)
    _interest(session, rejected.jp_profile_id, rejected.ca_profile_id, InterestState.SAVED)
    for match, status in (
        (introduced, IntroductionStatus.INTRODUCED),
        (awaiting, IntroductionStatus.AWAITING_APPROVAL),
    ):
        session.add(
            Introduction(
                jp_profile_id=match.jp_profile_id, ca_profile_id=match.ca_profile_id, status=status
            )
        )
    for match, review in ((rejected, ReviewStatus.REJECTED), (approved, ReviewStatus.APPROVED)):
        session.add(
            PairReview(
                jp_profile_id=match.jp_profile_id, ca_profile_id=match.ca_profile_id, status=review
            )
        )
    introduced.retained = True
    session.flush()

    after = dashboard_stats(session)

    expected = PairFunnel(
        retained=1,
        interested=2,
        both_interested=1,
        awaiting_introduction=1,
        introduced=1,
        approved=1,
        rejected=1,
    )
    assert _minus(_field(after, field_code).pairs, _field(before, field_code).pairs) == expected
    assert _minus(after.pairs, before.pairs) == expected
    for other in after.fields:
        if other.field.code != field_code:
            assert other.pairs == _field(before, other.field.code).pairs
    assert _field(after, field_code).pairs.share("introduced") > 0


def test_dashboard_counts_a_pair_in_two_fields_in_each_and_once_overall(
    session: Session,
) -> None:
    live = matching.live_run(session)
    assert live is not None
    (pair,) = _pairs_in_one_field(session, 1)
    other_field = session.scalar(
        select(Field).where(Field.id != pair.field_id).order_by(Field.position).limit(1)
    )
    assert other_field is not None
    session.add(
        Match(
            run_id=live.id,
            field_id=other_field.id,
            jp_profile_id=pair.jp_profile_id,
            ca_profile_id=pair.ca_profile_id,
            score=pair.score,
            rank_jp=1,
            rank_ca=1,
        )
    )
    session.flush()
    before = dashboard_stats(session)
    session.add(
        Introduction(
            jp_profile_id=pair.jp_profile_id,
            ca_profile_id=pair.ca_profile_id,
            status=IntroductionStatus.INTRODUCED,
        )
    )
    session.flush()

    after = dashboard_stats(session)

    for f in after.fields:
        grew = f.pairs.introduced - _field(before, f.field.code).pairs.introduced
        assert grew == (1 if f.field.id in (pair.field_id, other_field.id) else 0)
    assert after.pairs.introduced == before.pairs.introduced + 1
    assert sum(f.pairs.proposed for f in after.fields) == live.pair_count + 1
    assert after.pairs.proposed < sum(f.pairs.proposed for f in after.fields)


def test_dashboard_pairs_per_kind_add_up_to_the_field(session: Session) -> None:
    stats = dashboard_stats(session)
    live = matching.live_run(session)
    assert live is not None
    for f in stats.fields:
        assert f.pairs_by_kind
        assert sum(p.proposed for p in f.pairs_by_kind.values()) == f.pairs.proposed
    assert sum(f.pairs.proposed for f in stats.fields) == live.pair_count


def test_dashboard_freshness_reports_the_live_run_and_waiting_requests(
    session: Session,
) -> None:
    live = matching.live_run(session)
    assert live is not None and live.finished_at is not None
    before = dashboard_stats(session).freshness
    oldest = utcnow() - timedelta(days=2)
    session.add_all(
        [
            RematchRequest(profile_id=1, reason="test", created_at=oldest),
            RematchRequest(profile_id=2, reason="test", status=RequestStatus.SENT),
            RematchRequest(profile_id=3, reason="test", status=RequestStatus.FAILED),
            RematchRequest(profile_id=4, reason="test", status=RequestStatus.DONE),
        ]
    )
    session.flush()
    now = live.finished_at + timedelta(hours=3)

    fresh = dashboard_stats(session, now=now).freshness

    assert fresh.live_run_id == live.id
    assert fresh.live_duration_seconds == live.duration_seconds
    assert fresh.live_pair_count == live.pair_count
    assert fresh.live_age_seconds == 3 * 3600
    assert fresh.pending_requests == before.pending_requests + 2
    assert fresh.failed_requests == before.failed_requests + 1
    assert fresh.oldest_pending_at == oldest
    assert fresh.full_run_in_progress_id is None
    assert fresh.last_incremental_at is None

    profile = session.scalar(select(Profile).order_by(Profile.id).limit(1))
    assert profile is not None
    matching.rematch_profile(session, profile_id=profile.id, top_k=TOP_K)
    assert dashboard_stats(session).freshness.last_incremental_at is not None


def test_dashboard_without_a_live_run_shows_profiles_and_no_pairs(session: Session) -> None:
    live = matching.live_run(session)
    assert live is not None
    live.is_live = False
    session.flush()

    stats = dashboard_stats(session)

    assert stats.freshness.live_run_id is None and stats.freshness.live_age_seconds is None
    assert stats.pairs == PairFunnel()
    assert all(f.pairs == PairFunnel() for f in stats.fields)
    assert len(stats.fields) == 7
    assert stats.profiles_of(Country.JP).consented > 0


def test_dashboard_reads_a_fixed_number_of_aggregate_queries(session: Session) -> None:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", record)
    try:
        dashboard_stats(session)
    finally:
        event.remove(connection, "before_cursor_execute", record)

    # However many pairs are live: no query per pair, field or profile.
    assert len(statements) <= 12
    assert sum("GROUP BY" in s for s in statements) >= 4
