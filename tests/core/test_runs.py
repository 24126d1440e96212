"""Full rematches in blocks: same result as one piece, idempotent, one at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import Conflict
from core.models import (
    BlockCandidate,
    Country,
    Match,
    MatchRun,
    PairReview,
    RequestStatus,
    ReviewStatus,
    RunKind,
    RunStatus,
)
from core.services import matching, outbox, runs
from matcher import TfidfMatcher
from tests.conftest import TOP_K
from tests.factories import make_profile


def _live_pairs(session: Session) -> set[tuple[str, int, int, float, int, int]]:
    live = matching.live_run(session)
    assert live is not None
    return {
        (m.field.code, m.jp_profile_id, m.ca_profile_id, round(m.score, 5), m.rank_jp, m.rank_ca)
        for m in session.scalars(select(Match).where(Match.run_id == live.id))
    }


def test_blocks_give_the_pairs_of_matching_in_one_piece(session: Session) -> None:
    run = runs.run_full_rematch(session, top_k=TOP_K, block_size=7)
    assert run.blocks_total > 7 and run.blocks_done == run.blocks_total
    docs = [matching.to_doc(p) for p in matching.matchable_profiles(session)]
    expected = {
        (p.field, p.jp_id, p.ca_id, round(p.score, 5), p.rank_jp, p.rank_ca)
        for p in TfidfMatcher(top_k=TOP_K).fit(docs).match(docs)
    }
    assert _live_pairs(session) == expected
    assert session.scalar(select(func.count()).select_from(BlockCandidate)) == 0


def test_a_block_scored_twice_leaves_one_copy(session: Session) -> None:
    run, block_ids = runs.plan_full_run(session, top_k=TOP_K, block_size=10)
    runs.score_block(session, block_id=block_ids[0])
    stored = session.scalar(select(func.count()).where(BlockCandidate.block_id == block_ids[0]))
    assert runs.score_block(session, block_id=block_ids[0]) == (run.id, False)
    assert (
        session.scalar(select(func.count()).where(BlockCandidate.block_id == block_ids[0]))
        == stored
    )
    session.refresh(run)
    assert run.blocks_done == 1


def test_only_one_full_run_at_a_time(session: Session) -> None:
    runs.plan_full_run(session, top_k=TOP_K)
    with pytest.raises(Conflict, match="already in progress"):
        runs.plan_full_run(session, top_k=TOP_K)


def test_finishing_waits_for_every_block(session: Session) -> None:
    before = matching.live_run(session)
    run, block_ids = runs.plan_full_run(session, top_k=TOP_K, block_size=50)
    runs.score_block(session, block_id=block_ids[0])
    assert runs.finish_run(session, run_id=run.id) is None
    assert matching.live_run(session) == before
    assert run.status == RunStatus.RUNNING


def test_a_failed_block_fails_the_run_and_leaves_the_previous_one_live(
    session: Session,
) -> None:
    before = matching.live_run(session)
    assert before is not None
    pairs_before = _live_pairs(session)
    run, block_ids = runs.plan_full_run(session, top_k=TOP_K, block_size=50)
    runs.score_block(session, block_id=block_ids[0])
    runs.fail_block(session, block_id=block_ids[1], error="worker lost")
    for block_id in block_ids[2:]:
        runs.score_block(session, block_id=block_id)
    assert runs.finish_run(session, run_id=run.id) == run
    assert run.status == RunStatus.FAILED and not run.is_live
    assert "worker lost" in (run.error or "")
    assert matching.live_run(session) == before
    assert _live_pairs(session) == pairs_before
    # A failed run no longer blocks the next one.
    assert runs.plan_full_run(session, top_k=TOP_K)[0].id != run.id
    assert session.get(MatchRun, run.id) is not None


def test_edits_during_a_full_run_apply_again_once_it_is_live(session: Session) -> None:
    run, block_ids = runs.plan_full_run(session, top_k=TOP_K, block_size=50)
    # An edit arrives while the blocks are being scored and is applied to the old run.
    edited = make_profile(
        session,
        country=Country.CA,
        summary="Cryogenic CMOS control chips for spin qubit arrays in silicon foundries",
        fields=["quantum"],
    )
    request = outbox.request_rematch(session, profile_id=edited.id, reason="profile_updated")
    request.created_at = run.started_at + timedelta(seconds=1)  # type: ignore[operator]
    matching.process_rematch_request(session, request_id=request.id, top_k=TOP_K)
    assert request.status == RequestStatus.DONE
    for block_id in block_ids:
        runs.score_block(session, block_id=block_id)
    runs.finish_run(session, run_id=run.id)
    session.refresh(request)
    assert request.status == RequestStatus.PENDING  # to be applied to the new live run
    matching.process_rematch_request(session, request_id=request.id, top_k=TOP_K)
    assert session.scalar(
        select(func.count()).where(Match.run_id == run.id, Match.ca_profile_id == edited.id)
    )


def test_prune_runs_keeps_the_live_and_recent_runs_and_every_decision(
    session: Session,
) -> None:
    live = matching.live_run(session)
    assert live is not None
    first = runs.run_full_rematch(session, top_k=TOP_K)
    second = runs.run_full_rematch(session, top_k=TOP_K)
    pair = session.scalar(select(Match).where(Match.run_id == live.id).limit(1))
    assert pair is not None
    session.add(
        PairReview(
            jp_profile_id=pair.jp_profile_id,
            ca_profile_id=pair.ca_profile_id,
            status=ReviewStatus.SHORTLISTED,
        )
    )
    session.flush()
    assert runs.prune_runs(session, older_than=timedelta(days=1)) == 0  # all recent
    removed = runs.prune_runs(session, older_than=timedelta(seconds=-60))
    remaining = set(session.scalars(select(MatchRun.id).where(MatchRun.kind == RunKind.FULL)))
    assert second.id in remaining
    assert live.id not in remaining and first.id not in remaining
    assert removed >= 2
    # Decisions belong to the pair, not to a run: pruning leaves them.
    assert session.scalar(select(func.count()).select_from(PairReview)) == 1
