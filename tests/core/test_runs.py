"""Full rematches in blocks: same result as one piece, idempotent, one at a time."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import Conflict
from core.models import BlockCandidate, Match, MatchRun, RunStatus
from core.services import matching, runs
from matcher import TfidfMatcher
from tests.conftest import TOP_K


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
