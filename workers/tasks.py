"""Background tasks: ids in, one unit of work, one service call. Idempotent (acks_late).

A full rematch is planned by one task, its blocks are scored by as many tasks (on any
worker), and the task that scores the last block starts the one that makes the run live.
Without a broker the same task functions run one after the other in this process.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import Task, shared_task
from sqlalchemy.exc import OperationalError

from core.db import session_scope
from core.errors import Conflict
from core.services import matching, runs
from workers import current_settings

log = logging.getLogger(__name__)
RETRIES = 5


@shared_task(name="matching.rematch_profile")
def rematch_profile(request_id: int) -> bool:
    """Carry out one rematch request. Safe to run twice."""
    settings = current_settings()
    with session_scope() as session:
        return matching.process_rematch_request(
            session, request_id=request_id, top_k=settings.match_top_k
        )


@shared_task(name="matching.full_rematch")
def full_rematch() -> int | None:
    """Plan a full rematch and hand out its blocks; returns the run id (None if one is
    already in progress)."""
    settings = current_settings()
    try:
        with session_scope() as session:
            run, block_ids = runs.plan_full_run(
                session, top_k=settings.match_top_k, block_size=settings.match_block_size
            )
            run_id = run.id
    except Conflict as error:
        log.info("full rematch not started: %s", error)
        return None
    if not block_ids:
        finish_run(run_id)
    elif settings.uses_broker:
        for block_id in block_ids:
            score_block.apply_async((block_id,), retry=False)
    else:
        for block_id in block_ids:
            score_block(block_id)
    return run_id


@shared_task(name="matching.score_block", bind=True, max_retries=RETRIES)
def score_block(self: Task, block_id: int) -> None:  # type: ignore[type-arg]
    """Score one block of a full run; the last block starts the finish. Safe to run twice.

    Database errors are retried with exponential backoff; a block that still fails (or
    fails otherwise) fails its run, which leaves the previous live run in place.
    """
    settings = current_settings()
    try:
        with session_scope() as session:
            run_id, last = runs.score_block(session, block_id=block_id)
    except OperationalError as error:
        if not self.request.called_directly and self.request.retries < RETRIES:
            raise self.retry(exc=error, countdown=2**self.request.retries) from error
        _fail_block(block_id, error)
        raise
    except Exception as error:
        _fail_block(block_id, error)
        raise
    if last:
        if settings.uses_broker:
            finish_run.apply_async((run_id,), retry=False)
        else:
            finish_run(run_id)


def _fail_block(block_id: int, error: Exception) -> None:
    log.error("block %s failed for good: %r", block_id, error)
    with session_scope() as session:
        runs.fail_block(session, block_id=block_id, error=repr(error))


@shared_task(name="matching.finish_run", autoretry_for=(OperationalError,), retry_backoff=True)
def finish_run(run_id: int) -> bool:
    """Make a run whose blocks are all done live. Safe to run twice."""
    with session_scope() as session:
        return runs.finish_run(session, run_id=run_id) is not None


# How long past the broker's visibility timeout a full run may stay still before its
# blocks are sent again: by then Redis would have delivered any message it still had.
STALL_MARGIN = timedelta(minutes=10)


@shared_task(name="matching.resume_stalled_run")
def resume_stalled_run(quiet_seconds: float | None = None) -> int | None:
    """Send again the pending blocks (or the finish) of a full run that nothing has moved
    for longer than the broker's visibility timeout (or ``quiet_seconds``; 0 for now): the
    broker lost its messages (Redis restarted without its data), or the process running
    it in-process was stopped. Blocks and finishes are idempotent, so a message that was
    only slow does no harm twice. Returns the run's id, None when no run is stalled."""
    settings = current_settings()
    if quiet_seconds is None:
        quiet_for = timedelta(seconds=settings.task_visibility_timeout) + STALL_MARGIN
    else:
        quiet_for = timedelta(seconds=quiet_seconds)
    with session_scope() as session:
        stalled = runs.stalled_full_run(session, quiet_for=quiet_for)
    if stalled is None:
        return None
    log.warning(
        "full run %s has not moved for %s: sending again %s",
        stalled.run_id,
        quiet_for,
        f"{len(stalled.pending_block_ids)} blocks" if stalled.pending_block_ids else "its finish",
    )
    if not stalled.pending_block_ids:
        if settings.uses_broker:
            finish_run.apply_async((stalled.run_id,), retry=False)
        else:
            finish_run(stalled.run_id)
    for block_id in stalled.pending_block_ids:
        if settings.uses_broker:
            score_block.apply_async((block_id,), retry=False)
        else:
            score_block(block_id)
    return stalled.run_id


@shared_task(name="matching.prune_runs")
def prune_runs() -> int:
    """Delete finished runs past the retention period; returns how many."""
    settings = current_settings()
    with session_scope() as session:
        return runs.prune_runs(session, older_than=timedelta(days=settings.run_retention_days))
