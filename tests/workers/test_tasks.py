"""Task functions called directly (not eager mode): ids in, one unit of work."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.config import Settings
from core.models import (
    Country,
    MatchRun,
    RematchRequest,
    RequestStatus,
    RunBlock,
    RunStatus,
    utcnow,
)
from core.services import matching, runs
from tests.factories import make_profile
from workers import tasks
from workers.dispatch import dispatch_pending


def test_rematch_profile_task_processes_the_request_once(
    settings: Settings, session: Session
) -> None:
    profile = make_profile(
        session,
        country=Country.JP,
        summary="量子センシングとダイヤモンドNV中心",
        fields=["quantum"],
    )
    request = session.scalar(select(RematchRequest).where(RematchRequest.profile_id == profile.id))
    assert request is not None
    assert tasks.rematch_profile(request.id) is True
    assert tasks.rematch_profile(request.id) is False
    session.refresh(request)
    assert request.status == RequestStatus.DONE


def test_full_rematch_task_makes_a_new_live_run(session: Session) -> None:
    before = matching.live_run(session)
    run_id = tasks.full_rematch()
    live = matching.live_run(session)
    assert live is not None and live.id == run_id
    assert before is not None and before.id != run_id
    assert session.get(MatchRun, run_id) is not None


def test_dispatch_without_a_broker_runs_pending_requests_in_process(
    settings: Settings, session: Session
) -> None:
    make_profile(session, country=Country.CA, summary="Photonic qubits", fields=["quantum"])
    session.flush()
    assert dispatch_pending(settings) >= 1
    pending = session.scalars(
        select(RematchRequest).where(RematchRequest.status == RequestStatus.PENDING)
    ).all()
    assert pending == []


def test_a_block_task_that_fails_fails_its_run(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = matching.live_run(session)
    run, block_ids = runs.plan_full_run(session, top_k=20, block_size=50)

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(runs, "score_block", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        tasks.score_block(block_ids[0])
    session.refresh(run)
    assert run.status == RunStatus.FAILED
    assert "disk full" in (run.error or "")
    assert matching.live_run(session) == before


def test_full_rematch_task_refuses_a_second_run_in_progress(session: Session) -> None:
    runs.plan_full_run(session, top_k=20)
    assert tasks.full_rematch() is None


def test_a_full_run_whose_messages_were_lost_is_sent_again_and_finishes(
    session: Session,
) -> None:
    before = matching.live_run(session)
    # Planned, its blocks handed to a broker that then lost them: nothing moves.
    run, block_ids = runs.plan_full_run(session, top_k=20, block_size=50)
    assert len(block_ids) > 1
    assert tasks.resume_stalled_run() is None  # still within the visibility timeout
    run.started_at = utcnow() - timedelta(hours=2)
    session.flush()
    stalled = runs.stalled_full_run(session, quiet_for=timedelta(hours=1))
    assert stalled is not None and stalled.pending_block_ids == sorted(block_ids)
    assert tasks.resume_stalled_run() == run.id
    session.refresh(run)
    assert run.status == RunStatus.SUCCEEDED and run.is_live
    assert before is not None and before.id != run.id
    assert tasks.resume_stalled_run() is None  # nothing in progress any more


def test_a_run_that_still_moves_is_not_stalled(session: Session) -> None:
    run, block_ids = runs.plan_full_run(session, top_k=20, block_size=50)
    run.started_at = utcnow() - timedelta(hours=2)
    runs.score_block(session, block_id=block_ids[0])  # a block finished just now
    assert runs.stalled_full_run(session, quiet_for=timedelta(hours=1)) is None
    later = utcnow() + timedelta(hours=2)
    stalled = runs.stalled_full_run(session, quiet_for=timedelta(hours=1), now=later)
    assert stalled is not None and stalled.pending_block_ids == sorted(block_ids[1:])


def test_a_run_whose_blocks_are_done_but_finish_was_lost_is_finished(session: Session) -> None:
    run, block_ids = runs.plan_full_run(session, top_k=20, block_size=50)
    for block_id in block_ids:
        runs.score_block(session, block_id=block_id)  # the finish message never came
    session.flush()
    later = utcnow() + timedelta(hours=2)
    stalled = runs.stalled_full_run(session, quiet_for=timedelta(hours=1), now=later)
    assert stalled is not None and stalled.pending_block_ids == []
    run.started_at = utcnow() - timedelta(hours=3)
    session.execute(
        update(RunBlock)
        .where(RunBlock.run_id == run.id)
        .values(finished_at=utcnow() - timedelta(hours=2))
    )
    assert tasks.resume_stalled_run() == run.id
    session.refresh(run)
    assert run.status == RunStatus.SUCCEEDED and run.is_live
