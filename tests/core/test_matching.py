from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import (
    Availability,
    Country,
    Match,
    MatcherModel,
    MatchRun,
    Profile,
    RematchRequest,
    RequestStatus,
    RunStatus,
)
from core.services import matching, outbox, runs
from matcher.persist import loads
from tests.conftest import TOP_K
from tests.factories import make_profile


def _own_top_pairs(session: Session, profile: Profile) -> list[tuple[int, int, int, float]]:
    live = matching.live_run(session)
    assert live is not None
    own, rank = (
        (Match.jp_profile_id, Match.rank_jp)
        if profile.country == Country.JP
        else (Match.ca_profile_id, Match.rank_ca)
    )
    rows = session.execute(
        select(Match.field_id, Match.jp_profile_id, Match.ca_profile_id, Match.score, rank).where(
            Match.run_id == live.id, own == profile.id, rank <= TOP_K
        )
    )
    return sorted((f, jp, ca, round(score, 5)) for f, jp, ca, score, _ in rows)


def test_live_run_pairs_are_cross_border_and_share_the_field(session: Session) -> None:
    live = matching.live_run(session)
    assert live is not None and live.status == RunStatus.SUCCEEDED
    pairs = session.scalars(select(Match).where(Match.run_id == live.id).limit(300)).all()
    assert pairs
    for pair in pairs:
        assert pair.jp_profile.country == Country.JP
        assert pair.ca_profile.country == Country.CA
        assert pair.field in pair.jp_profile.fields and pair.field in pair.ca_profile.fields
        assert pair.rank_jp <= TOP_K or pair.rank_ca <= TOP_K
        assert pair.terms


def test_full_rematch_supersedes_the_previous_live_run(session: Session) -> None:
    previous = matching.live_run(session)
    assert previous is not None
    run = runs.run_full_rematch(session, top_k=TOP_K)
    assert matching.live_run(session) == run
    assert previous.status == RunStatus.SUPERSEDED and not previous.is_live
    assert session.scalar(select(func.count()).where(MatchRun.is_live.is_(True))) == 1
    assert run.pair_count == session.scalar(
        select(func.count()).select_from(Match).where(Match.run_id == run.id)
    )


def test_incremental_rematch_scores_with_the_live_runs_vocabulary(session: Session) -> None:
    profile = make_profile(
        session,
        country=Country.CA,
        summary="Superconducting qubit surface code decoders on FPGA with real-time "
        "syndrome extraction and cryogenic control electronics.",
        fields=["quantum"],
    )
    live = matching.live_run(session)
    assert live is not None
    stored = session.get(MatcherModel, live.id)
    assert stored is not None
    matching.rematch_profile(session, profile_id=profile.id, top_k=TOP_K)
    incremental = _own_top_pairs(session, profile)
    assert incremental, "the new profile should get partners"

    fitted = loads(stored.data)
    candidates = [
        matching.to_doc(p)
        for p in matching.matchable_profiles(session)
        if p.country == Country.JP and "quantum" in [f.code for f in p.fields]
    ]
    expected = fitted.score_against(matching.to_doc(profile), candidates)[:TOP_K]
    assert [jp for _, jp, _, _ in sorted(incremental, key=lambda r: (-r[3], r[1]))] == [
        cid for cid, _, _ in expected
    ]


def test_incremental_rematch_keeps_ranks_consistent(session: Session) -> None:
    profile = make_profile(
        session,
        country=Country.JP,
        summary="全固体電池の硫化物固体電解質と正極界面の劣化解析",
        fields=["clean_technology"],
    )
    matching.rematch_profile(session, profile_id=profile.id, top_k=TOP_K)
    live = matching.live_run(session)
    assert live is not None
    for side, rank in ((Match.jp_profile_id, Match.rank_jp), (Match.ca_profile_id, Match.rank_ca)):
        rows = session.execute(
            select(Match.field_id, side, Match.score, rank).where(Match.run_id == live.id)
        ).all()
        lists: dict[tuple[int, int], list[tuple[float, int]]] = {}
        for field_id, owner, score, position in rows:
            lists.setdefault((field_id, owner), []).append((score, position))
        for entries in lists.values():
            positions = sorted(position for _, position in entries)
            assert positions == list(range(1, len(entries) + 1))
            by_rank = [score for score, _ in sorted(entries, key=lambda e: e[1])]
            assert by_rank == sorted(by_rank, reverse=True)


def test_paused_profile_loses_its_pairs_on_rematch(session: Session) -> None:
    live = matching.live_run(session)
    assert live is not None
    profile = session.scalar(
        select(Profile).join(Match, Match.jp_profile_id == Profile.id).limit(1)
    )
    assert profile is not None
    profile.availability = Availability.PAUSED
    matching.rematch_profile(session, profile_id=profile.id, top_k=TOP_K)
    remaining = session.scalar(
        select(func.count())
        .select_from(Match)
        .where(Match.run_id == live.id, Match.jp_profile_id == profile.id)
    )
    assert remaining == 0


def test_process_rematch_request_is_safe_to_run_twice(session: Session) -> None:
    profile = make_profile(
        session,
        country=Country.JP,
        summary="GaN power devices for EV inverters",
        fields=["semiconductors"],
    )
    request = session.scalar(select(RematchRequest).where(RematchRequest.profile_id == profile.id))
    assert request is not None
    assert matching.process_rematch_request(session, request_id=request.id, top_k=TOP_K)
    pairs = _own_top_pairs(session, profile)
    assert not matching.process_rematch_request(session, request_id=request.id, top_k=TOP_K)
    assert _own_top_pairs(session, profile) == pairs
    assert request.status == RequestStatus.DONE


def test_outbox_coalesces_requests_for_one_profile(session: Session) -> None:
    first = outbox.request_rematch(session, profile_id=999_999, reason="profile_updated")
    second = outbox.request_rematch(session, profile_id=999_999, reason="profile_paused")
    assert first.id == second.id and second.reason == "profile_paused"
    outbox.mark_sent(session, [first.id])
    third = outbox.request_rematch(session, profile_id=999_999, reason="profile_updated")
    assert third.id != first.id
    outbox.mark_done(session, third)
    session.refresh(first)
    assert first.status == RequestStatus.DONE


def test_a_request_sent_but_never_done_is_sent_again(session: Session) -> None:
    from datetime import timedelta

    from core.models import utcnow

    request = outbox.request_rematch(session, profile_id=999_998, reason="profile_updated")
    outbox.mark_sent(session, [request.id])
    session.flush()
    assert request.id not in {r.id for r in outbox.pending_requests(session, limit=10_000)}
    # The broker lost it (Redis restarted empty): after RESEND_AFTER it is due again.
    request.sent_at = utcnow() - outbox.RESEND_AFTER - timedelta(seconds=1)
    session.flush()
    assert request.id in {r.id for r in outbox.pending_requests(session, limit=10_000)}
    outbox.mark_sent(session, [request.id])
    session.refresh(request)
    assert request.sent_at is not None and request.sent_at > utcnow() - timedelta(minutes=1)
