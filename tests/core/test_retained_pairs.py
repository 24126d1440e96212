"""Introduced or approved pairs that a full rematch no longer proposes stay live, marked
retained; other pairs it no longer proposes are dropped."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import (
    Availability,
    Introduction,
    IntroductionStatus,
    Locale,
    Match,
    MatchRun,
    PairReview,
    Profile,
    ReviewStatus,
)
from core.services import matching, runs
from core.services.rematch_diff import ChangeKind, diff_runs
from tests.conftest import TOP_K

UNRELATED = (
    "Troubadour songbooks of twelfth-century Occitania: palaeography of the chansonniers, "
    "their melodies and the courtly love lyric"
)


def _partners_of_a_japanese_profile(session: Session, count: int) -> list[Match]:
    """``count`` live pairs of one Japanese profile in one field, best first."""
    live = matching.live_run(session)
    assert live is not None
    owner, field_id = session.execute(
        select(Match.jp_profile_id, Match.field_id)
        .where(Match.run_id == live.id)
        .group_by(Match.jp_profile_id, Match.field_id)
        .having(func.count() >= count)
        .order_by(Match.jp_profile_id, Match.field_id)
        .limit(1)
    ).one()
    return list(
        session.scalars(
            select(Match)
            .where(
                Match.run_id == live.id,
                Match.jp_profile_id == owner,
                Match.field_id == field_id,
            )
            .order_by(Match.score.desc(), Match.ca_profile_id)
            .limit(count)
        )
    )


def _rewrite_off_topic(session: Session, profile_id: int) -> None:
    """Edit the profile so that no partner in its fields resembles it any more."""
    profile = session.get(Profile, profile_id)
    assert profile is not None
    profile.title = "Occitan troubadour songbooks"
    profile.summary = UNRELATED
    profile.keywords = []
    profile.language = Locale.EN
    session.flush()


def _review(session: Session, match: Match, status: ReviewStatus) -> None:
    session.add(
        PairReview(
            jp_profile_id=match.jp_profile_id, ca_profile_id=match.ca_profile_id, status=status
        )
    )
    session.flush()


def _introduce(session: Session, match: Match, status: IntroductionStatus) -> None:
    session.add(
        Introduction(
            jp_profile_id=match.jp_profile_id, ca_profile_id=match.ca_profile_id, status=status
        )
    )
    session.flush()


def _in_run(session: Session, run: MatchRun, match: Match) -> Match | None:
    return session.scalar(
        select(Match).where(
            Match.run_id == run.id,
            Match.field_id == match.field_id,
            Match.jp_profile_id == match.jp_profile_id,
            Match.ca_profile_id == match.ca_profile_id,
        )
    )


def test_finish_run_keeps_an_approved_pair_it_no_longer_proposes(session: Session) -> None:
    previous = matching.live_run(session)
    assert previous is not None
    approved, unreviewed = _partners_of_a_japanese_profile(session, 2)
    before = (
        approved.score,
        approved.rank_jp,
        approved.rank_ca,
        approved.terms,
        approved.first_proposed_at,
    )
    _review(session, approved, ReviewStatus.APPROVED)
    _rewrite_off_topic(session, approved.jp_profile_id)

    run = runs.run_full_rematch(session, top_k=TOP_K)

    assert matching.live_run(session) == run
    kept = _in_run(session, run, approved)
    assert kept is not None and kept.retained
    assert (kept.score, kept.rank_jp, kept.rank_ca, kept.terms, kept.first_proposed_at) == before
    # The unreviewed partner of the same edited profile is simply no longer proposed.
    assert _in_run(session, run, unreviewed) is None
    retained = session.scalar(
        select(func.count()).where(Match.run_id == run.id, Match.retained.is_(True))
    )
    assert retained == 1
    assert run.pair_count == session.scalar(select(func.count()).where(Match.run_id == run.id))


def test_finish_run_keeps_an_introduced_pair_it_no_longer_proposes(session: Session) -> None:
    introduced, awaiting, unreviewed = _partners_of_a_japanese_profile(session, 3)
    _introduce(session, introduced, IntroductionStatus.INTRODUCED)
    _introduce(session, awaiting, IntroductionStatus.AWAITING_APPROVAL)
    _rewrite_off_topic(session, introduced.jp_profile_id)

    run = runs.run_full_rematch(session, top_k=TOP_K)

    for match in (introduced, awaiting):
        kept = _in_run(session, run, match)
        assert kept is not None and kept.retained
        assert kept.first_proposed_at == match.first_proposed_at
    assert _in_run(session, run, unreviewed) is None


def test_finish_run_drops_rejected_and_shortlisted_pairs_it_no_longer_proposes(
    session: Session,
) -> None:
    rejected, shortlisted = _partners_of_a_japanese_profile(session, 2)
    _review(session, rejected, ReviewStatus.REJECTED)
    _review(session, shortlisted, ReviewStatus.SHORTLISTED)
    _rewrite_off_topic(session, rejected.jp_profile_id)

    run = runs.run_full_rematch(session, top_k=TOP_K)

    assert _in_run(session, run, rejected) is None
    assert _in_run(session, run, shortlisted) is None
    assert not session.scalar(
        select(func.count()).where(Match.run_id == run.id, Match.retained.is_(True))
    )


def test_finish_run_does_not_keep_pairs_of_a_paused_profile(session: Session) -> None:
    # Pausing is the owner's own choice: their pairs go, approved or not.
    (approved,) = _partners_of_a_japanese_profile(session, 1)
    _review(session, approved, ReviewStatus.APPROVED)
    profile = session.get(Profile, approved.jp_profile_id)
    assert profile is not None
    profile.availability = Availability.PAUSED
    session.flush()

    run = runs.run_full_rematch(session, top_k=TOP_K)

    assert _in_run(session, run, approved) is None


def test_a_kept_pair_stays_kept_through_later_rematches_and_counts_as_kept(
    session: Session,
) -> None:
    (approved,) = _partners_of_a_japanese_profile(session, 1)
    first_proposed = approved.first_proposed_at
    _review(session, approved, ReviewStatus.APPROVED)
    _rewrite_off_topic(session, approved.jp_profile_id)

    first = runs.run_full_rematch(session, top_k=TOP_K)
    second = runs.run_full_rematch(session, top_k=TOP_K)

    kept = _in_run(session, second, approved)
    assert kept is not None and kept.retained
    assert kept.first_proposed_at == first_proposed
    diff = diff_runs(session, second.id, first.id)
    by_field = {f.field.id: f for f in diff.fields}
    assert by_field[approved.field_id].count(ChangeKind.KEPT) == 1
    assert diff.total(ChangeKind.DROPPED) == 0
    listed = by_field[approved.field_id].listed(ChangeKind.KEPT)
    assert [(p.jp_profile_id, p.ca_profile_id) for p in listed] == [
        (approved.jp_profile_id, approved.ca_profile_id)
    ]


def test_the_rematch_that_stops_proposing_an_approved_pair_reports_it_kept_not_dropped(
    session: Session,
) -> None:
    previous = matching.live_run(session)
    assert previous is not None
    approved, unreviewed = _partners_of_a_japanese_profile(session, 2)
    _review(session, approved, ReviewStatus.APPROVED)
    _rewrite_off_topic(session, approved.jp_profile_id)

    run = runs.run_full_rematch(session, top_k=TOP_K)

    field = next(
        f for f in diff_runs(session, run.id, previous.id).fields if f.field.id == approved.field_id
    )
    dropped = {(p.jp_profile_id, p.ca_profile_id) for p in field.listed(ChangeKind.DROPPED)}
    kept = {(p.jp_profile_id, p.ca_profile_id) for p in field.listed(ChangeKind.KEPT)}
    assert kept == {(approved.jp_profile_id, approved.ca_profile_id)}
    assert (approved.jp_profile_id, approved.ca_profile_id) not in dropped
    assert field.count(ChangeKind.DROPPED) >= 1
    assert (unreviewed.jp_profile_id, unreviewed.ca_profile_id) in {
        (p.jp_profile_id, p.ca_profile_id)
        for p in diff_runs(session, run.id, previous.id, limit=500, field_id=approved.field_id)
        .fields[0]
        .listed(ChangeKind.DROPPED)
    }


def test_two_full_rematches_in_a_row_change_nothing(session: Session) -> None:
    first = runs.run_full_rematch(session, top_k=TOP_K)
    second = runs.run_full_rematch(session, top_k=TOP_K)

    diff = diff_runs(session, second.id, first.id, threshold=1e-9)

    assert diff.is_empty
    assert {kind: diff.total(kind) for kind in ChangeKind} == dict.fromkeys(ChangeKind, 0)
    assert sum(f.common for f in diff.fields) == first.pair_count == second.pair_count


def test_an_incremental_rematch_keeps_an_approved_pair_it_no_longer_proposes(
    session: Session,
) -> None:
    approved, other = _partners_of_a_japanese_profile(session, 2)
    session.add(
        PairReview(
            jp_profile_id=approved.jp_profile_id,
            ca_profile_id=approved.ca_profile_id,
            status=ReviewStatus.APPROVED,
        )
    )
    session.flush()
    pair = (approved.field_id, approved.jp_profile_id, approved.ca_profile_id)
    before = approved.score
    _rewrite_off_topic(session, approved.jp_profile_id)
    matching.rematch_profile(session, profile_id=approved.jp_profile_id, top_k=TOP_K)
    live = matching.live_run(session)
    assert live is not None
    kept = session.scalar(
        select(Match).where(
            Match.run_id == live.id,
            Match.field_id == pair[0],
            Match.jp_profile_id == pair[1],
            Match.ca_profile_id == pair[2],
        )
    )
    assert kept is not None and kept.retained and kept.score == before
    dropped = session.scalar(
        select(Match).where(
            Match.run_id == live.id,
            Match.field_id == other.field_id,
            Match.jp_profile_id == other.jp_profile_id,
            Match.ca_profile_id == other.ca_profile_id,
        )
    )
    assert dropped is None
