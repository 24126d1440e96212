"""Integration: a real `celery worker` process on Redis carries out rematch requests that the
`grantmatch rematch` dispatcher sends, against a real database (SQLite file or PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from core.models import (
    Country,
    Match,
    MatchRun,
    RematchRequest,
    RequestStatus,
    RunKind,
    RunStatus,
)
from core.services import demo, runs
from tests.factories import make_profile
from tests.workers.support import (
    TOP_K,
    WorkerProcess,
    environment,
    grantmatch,
    live_pairs,
    single_process_pairs,
    wait_for,
)

pytestmark = pytest.mark.integration


def test_worker_process_rematches_a_saved_profile(
    worker_database: tuple[str, Engine], worker: dict[str, str], tmp_path: Path
) -> None:
    _, engine = worker_database
    with Session(engine) as session, session.begin():
        for country, summary in [
            (Country.JP, "Superconducting qubit readout with Josephson parametric amplifiers"),
            (Country.CA, "Josephson parametric amplifiers for qubit readout at millikelvin"),
            (Country.CA, "Trapped ion clocks and optical frequency combs"),
        ]:
            make_profile(session, country=country, summary=summary, fields=["quantum"])
        runs.run_full_rematch(session, top_k=TOP_K)
    with Session(engine) as session, session.begin():
        new = make_profile(
            session,
            country=Country.JP,
            summary="Optical frequency combs for trapped ion clocks and timing networks",
            fields=["quantum"],
        )
        new_id = new.id

    dispatched = grantmatch(["rematch"], worker)
    assert "1 rematch requests sent" in dispatched.stdout

    def processed() -> bool:
        with Session(engine) as session:
            status = session.scalar(
                select(RematchRequest.status).where(RematchRequest.profile_id == new_id)
            )
            return status == RequestStatus.DONE

    wait_for(processed)
    with Session(engine) as session:
        partners = session.scalars(
            select(Match.ca_profile_id).where(Match.jp_profile_id == new_id)
        ).all()
    assert partners, (tmp_path / "worker-0.log").read_text()


def test_two_workers_share_a_full_rematch(
    worker_database: tuple[str, Engine],
    broker_url: str,
    start_worker: Callable[..., WorkerProcess],
    tmp_path: Path,
) -> None:
    url, engine = worker_database
    with Session(engine) as session, session.begin():
        demo.seed_demo(session)
    small_blocks = {"GRANTMATCH_MATCH_BLOCK_SIZE": "8"}
    workers = [start_worker(**small_blocks), start_worker(**small_blocks)]
    env = environment(url, broker_url, tmp_path) | small_blocks
    started = grantmatch(["rematch", "--full"], env)
    assert "queued" in started.stdout

    def finished() -> bool:
        with Session(engine) as session:
            run = session.scalar(select(MatchRun).where(MatchRun.kind == RunKind.FULL))
            assert run is None or run.status != RunStatus.FAILED, run.error
            return run is not None and run.status == RunStatus.SUCCEEDED

    wait_for(finished, timeout=240)
    with Session(engine) as session:
        run = session.scalar(select(MatchRun).where(MatchRun.is_live.is_(True)))
        assert run is not None and run.blocks_total > 10
        live = live_pairs(session)
        expected = single_process_pairs(session)
    assert len(live) == len(set(live))
    assert set(live) == expected
    # Both workers took blocks.
    for worker in workers:
        log = worker.log()
        assert "matching.score_block" in log and "succeeded" in log


def test_workers_run_at_the_configured_lower_cpu_priority(
    start_worker: Callable[..., WorkerProcess],
) -> None:
    worker = start_worker(GRANTMATCH_WORKER_NICE="7")
    worker.wait_ready()
    expected = min(19, os.getpriority(os.PRIO_PROCESS, 0) + 7)
    main = worker.process.pid
    pool = [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and _parent_of(entry) == main
    ]
    assert pool, "the worker has no pool process"
    for pid in [main, *pool]:
        assert os.getpriority(os.PRIO_PROCESS, pid) == expected, pid


def _parent_of(proc_entry: Path) -> int | None:
    try:
        stat = (proc_entry / "stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])
