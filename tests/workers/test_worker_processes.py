"""Integration: a real `celery worker` process on Redis carries out rematch requests that the
`grantmatch rematch` dispatcher sends, against a real database (SQLite file or PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest
import redis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from core import db, schema
from core.models import (
    Country,
    Match,
    MatchRun,
    RematchRequest,
    RequestStatus,
    RunKind,
    RunStatus,
)
from core.services import demo, matching, runs
from matcher import TfidfMatcher
from tests.conftest import database_url_for_tests
from tests.factories import make_profile

pytestmark = pytest.mark.integration
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def broker_url() -> str:
    url = os.environ.get("GRANTMATCH_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
        client.flushdb()
    except redis.RedisError as error:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required on CI and is not reachable at {url}: {error}")
        pytest.skip(f"Redis not reachable at {url}: {error}")
    return url


@pytest.fixture
def worker_database(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url = database_url_for_tests(tmp_path, "workers")
    schema.upgrade(url)
    engine = db.make_engine(url)
    yield url, engine
    engine.dispose()


def _environment(database_url: str, broker_url: str, instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRANTMATCH_")}
    env.update(
        GRANTMATCH_DATABASE_URL=database_url,
        GRANTMATCH_BROKER_URL=broker_url,
        GRANTMATCH_INSTANCE_PATH=str(instance),
    )
    return env


@pytest.fixture
def start_worker(
    worker_database: tuple[str, Engine], broker_url: str, tmp_path: Path
) -> Iterator[Callable[..., Path]]:
    """Start real `celery worker` processes; each returns its log file. All stop after."""
    processes: list[tuple[subprocess.Popen[bytes], IO[str]]] = []

    def start(**extra_env: str) -> Path:
        env = _environment(worker_database[0], broker_url, tmp_path) | extra_env
        log_path = tmp_path / f"worker-{len(processes)}.log"
        log = log_path.open("w")
        process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "workers.app", "worker",
                "--pool=prefork", "--concurrency=1", "--loglevel=INFO",
                "--without-heartbeat", "--without-gossip", "--without-mingle",
                f"--hostname=worker{len(processes)}@%h",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        processes.append((process, log))
        return log_path

    yield start
    for process, _ in processes:
        process.terminate()
    for process, log in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def worker(
    worker_database: tuple[str, Engine],
    broker_url: str,
    tmp_path: Path,
    start_worker: Callable[..., Path],
) -> dict[str, str]:
    start_worker()
    return _environment(worker_database[0], broker_url, tmp_path)


def _grantmatch(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the command line as an operator would; it must succeed."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "grantmatch"), *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result


def _wait_for(condition: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.25)
    raise AssertionError("timed out waiting for the worker")


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
        runs.run_full_rematch(session, top_k=20)
    with Session(engine) as session, session.begin():
        new = make_profile(
            session,
            country=Country.JP,
            summary="Optical frequency combs for trapped ion clocks and timing networks",
            fields=["quantum"],
        )
        new_id = new.id

    dispatched = _grantmatch(["rematch"], worker)
    assert "1 rematch requests sent" in dispatched.stdout

    def processed() -> bool:
        with Session(engine) as session:
            status = session.scalar(
                select(RematchRequest.status).where(RematchRequest.profile_id == new_id)
            )
            return status == RequestStatus.DONE

    _wait_for(processed)
    with Session(engine) as session:
        partners = session.scalars(
            select(Match.ca_profile_id).where(Match.jp_profile_id == new_id)
        ).all()
    assert partners, (tmp_path / "worker.log").read_text()


def test_two_workers_share_a_full_rematch(
    worker_database: tuple[str, Engine],
    broker_url: str,
    start_worker: Callable[..., Path],
    tmp_path: Path,
) -> None:
    url, engine = worker_database
    with Session(engine) as session, session.begin():
        demo.seed_demo(session)
    small_blocks = {"GRANTMATCH_MATCH_BLOCK_SIZE": "8"}
    logs = [start_worker(**small_blocks), start_worker(**small_blocks)]
    env = _environment(url, broker_url, tmp_path) | small_blocks
    started = _grantmatch(["rematch", "--full"], env)
    assert "queued" in started.stdout

    def finished() -> bool:
        with Session(engine) as session:
            run = session.scalar(select(MatchRun).where(MatchRun.kind == RunKind.FULL))
            assert run is None or run.status != RunStatus.FAILED, run.error
            return run is not None and run.status == RunStatus.SUCCEEDED

    _wait_for(finished, timeout=240)
    with Session(engine) as session:
        run = session.scalar(select(MatchRun).where(MatchRun.is_live.is_(True)))
        assert run is not None and run.blocks_total > 10
        live = {
            (
                m.field.code,
                m.jp_profile_id,
                m.ca_profile_id,
                round(m.score, 5),
                m.rank_jp,
                m.rank_ca,
            )
            for m in session.scalars(select(Match).where(Match.run_id == run.id))
        }
        docs = [matching.to_doc(p) for p in matching.matchable_profiles(session)]
    expected = {
        (p.field, p.jp_id, p.ca_id, round(p.score, 5), p.rank_jp, p.rank_ca)
        for p in TfidfMatcher(top_k=20).fit(docs).match(docs)
    }
    assert live == expected
    # Both workers took blocks.
    for log in logs:
        assert "matching.score_block" in log.read_text() and "succeeded" in log.read_text()
