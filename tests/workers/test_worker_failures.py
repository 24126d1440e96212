"""Integration: the background work survives a worker killed mid-task and a Redis outage.

Real `celery worker` processes and a real database (SQLite file or PostgreSQL), as in
test_worker_processes.py.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import _state
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

import workers
from core import db
from core.config import Settings
from core.models import (
    BlockStatus,
    Country,
    Field,
    Match,
    MatchRun,
    Profile,
    RematchRequest,
    RequestStatus,
    RunBlock,
    RunKind,
    RunStatus,
    User,
)
from core.services import demo, matching, runs
from tests.conftest import login
from tests.factories import make_profile
from tests.workers.support import (
    TOP_K,
    WorkerProcess,
    environment,
    grantmatch,
    live_pairs,
    single_process_pairs,
    task_ids,
    wait_for,
)
from workers.dispatch import dispatch_pending

pytestmark = pytest.mark.integration
RESEARCHER, FOUNDER, _OFFICER = (a.email for a in demo.DEMO_ACCOUNTS)
# Seconds before Redis hands the message of a dead worker to another one (production: 1 h).
VISIBILITY_TIMEOUT = 5


# --- A worker killed in the middle of a block ------------------------------------------


def _full_run(engine: Engine) -> MatchRun | None:
    with Session(engine) as session:
        run = session.scalar(select(MatchRun).where(MatchRun.kind == RunKind.FULL))
        assert run is None or run.status != RunStatus.FAILED, run.error
        return run


def _pause_inside_a_block(engine: Engine, worker: WorkerProcess) -> str:
    """Pause (SIGSTOP) the worker at a moment it is inside a block: one score_block message
    taken and not finished (so not acknowledged), its block not committed. Returns that
    message's id; the worker stays paused. Paused, it cannot move on while we look."""
    while True:
        worker.pause()
        log = worker.log()
        finished = task_ids(log, "matching.score_block", "succeeded")
        unfinished = task_ids(log, "matching.score_block", "received") - finished
        run = _full_run(engine)
        assert run is not None
        if len(unfinished) == 1 and run.blocks_done == len(finished):
            return unfinished.pop()
        assert run.blocks_done < run.blocks_total, "worker A finished before it could be paused"
        worker.resume()  # between two blocks: let it take the next one
        time.sleep(0.013)


def test_a_full_rematch_survives_a_worker_killed_in_the_middle_of_a_block(
    worker_database: tuple[str, Engine],
    broker_url: str,
    start_worker: Callable[..., WorkerProcess],
    tmp_path: Path,
) -> None:
    """Worker A (one pool process, one message at a time) scores some blocks, is paused
    inside the next one and killed there with SIGKILL, main process and pool child together:
    that block's message is unacknowledged and its transaction never commits. Worker B is
    started once the visibility timeout has passed: Redis gives it the dead worker's block
    back with the rest, and B finishes the run. Nothing is lost and nothing is counted or
    stored twice: the live pairs are exactly those of a single-process run.
    """
    url, engine = worker_database
    with Session(engine) as session, session.begin():
        demo.seed_demo(session)
    settings = {
        "GRANTMATCH_MATCH_BLOCK_SIZE": "8",
        "GRANTMATCH_TASK_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
    }
    first = start_worker(**settings)
    grantmatch(["rematch", "--full"], environment(url, broker_url, tmp_path) | settings)

    def some_blocks_done() -> bool:
        run = _full_run(engine)
        return run is not None and run.blocks_done > 0

    wait_for(some_blocks_done, timeout=120, interval=0.01)
    lost = _pause_inside_a_block(engine, first)
    first.kill()
    # Redis redelivers an unacknowledged message once it is older than the visibility
    # timeout; a worker looks for such messages when it starts (then every few minutes).
    time.sleep(VISIBILITY_TIMEOUT + 1)
    second = start_worker(**settings)

    def finished() -> bool:
        run = _full_run(engine)
        return run is not None and run.status == RunStatus.SUCCEEDED

    wait_for(finished, timeout=120, what="worker B to finish the run")
    assert lost in task_ids(second.log(), "matching.score_block", "succeeded"), second.log()
    with Session(engine) as session:
        run = session.scalar(select(MatchRun).where(MatchRun.kind == RunKind.FULL))
        assert run is not None and run.is_live
        assert run.blocks_done == run.blocks_total > 10
        statuses = session.scalars(select(RunBlock.status).where(RunBlock.run_id == run.id))
        assert set(statuses) == {BlockStatus.DONE}
        live = live_pairs(session)
        expected = single_process_pairs(session)
    assert len(live) == len(set(live)), "a pair is stored twice"
    assert set(live) == expected


# --- Redis down while profiles are saved -----------------------------------------------

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RedisServer:
    """A redis-server of the test's own, which it may stop and start again on the same port.
    It saves nothing to disk: after a restart it is empty, as a lost Redis would be."""

    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with (self.directory / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", str(self.directory),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)
        wait_for(lambda: self._answers(client), timeout=20, interval=0.05, what="redis-server")
        client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    @staticmethod
    def _answers(client: redis.Redis[bytes]) -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A running redis-server on a free port (the shared one on 6379 is left alone)."""
    if not Path(REDIS_SERVER).exists():
        pytest.skip("redis-server is not installed")
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(_free_port(), directory)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def build_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Settings], Flask]]:
    """Build the web app on other settings (this test's database and Redis). create_app()
    binds state of the whole process to them (the session factory, the workers' settings,
    Celery's current app): it is put back afterwards for the other tests in this process."""
    celery_state: Any = _state  # its attributes are not in celery-types
    engine, app = db._engine, celery_state.default_app
    monkeypatch.setattr(db, "_engine", engine)
    monkeypatch.setitem(db.SessionLocal.kw, "bind", db.SessionLocal.kw.get("bind"))
    # The web app's own sessions, as in production (the `session` fixture leaves its mode).
    monkeypatch.setitem(db.SessionLocal.kw, "join_transaction_mode", "conditional_savepoint")
    monkeypatch.setattr(workers, "_settings", workers._settings)
    monkeypatch.setattr(celery_state, "default_app", app)
    monkeypatch.setattr(celery_state._tls, "current_app", celery_state._tls.current_app)

    def build(settings: Settings) -> Flask:
        from web import create_app

        flask_app = create_app(settings)
        flask_app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
        return flask_app

    yield build
    if celery_state.default_app is not app:
        celery_state.default_app.close()
    if db._engine is not engine and db._engine is not None:
        db._engine.dispose()


def _save_profile(client: FlaskClient, *, summary: str, fields: list[str]) -> None:
    """Save the signed-in registrant's profile through the edit form; it must succeed."""
    response = client.post(
        "/profile/edit",
        data={
            "title": "Profile saved during the test",
            "summary": summary,
            "language": "en",
            "keywords": "",
            "fields": fields,
            "availability": "open",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/matches/")


def _profile_id(engine: Engine, email: str) -> int:
    with Session(engine) as session:
        profile_id = session.scalar(select(Profile.id).join(User).where(User.email == email))
    assert profile_id is not None
    return profile_id


def _open_requests(engine: Engine) -> dict[int, RequestStatus]:
    """Rematch requests not yet carried out: profile id -> status."""
    with Session(engine) as session:
        rows = session.execute(
            select(RematchRequest.profile_id, RematchRequest.status).where(
                RematchRequest.status != RequestStatus.DONE
            )
        )
        return dict(rows.tuples().all())


def _live_pair_count(engine: Engine, profile_id: int, field_code: str) -> int:
    with Session(engine) as session:
        live = matching.live_run(session)
        assert live is not None
        return (
            session.scalar(
                select(func.count())
                .select_from(Match)
                .join(Field, Field.id == Match.field_id)
                .where(
                    Match.run_id == live.id,
                    Field.code == field_code,
                    or_(Match.jp_profile_id == profile_id, Match.ca_profile_id == profile_id),
                )
            )
            or 0
        )


def test_profiles_saved_while_redis_is_down_are_matched_once_it_is_back(
    worker_database: tuple[str, Engine],
    private_redis: RedisServer,
    start_worker: Callable[..., WorkerProcess],
    build_app: Callable[[Settings], Flask],
    tmp_path: Path,
) -> None:
    """The worker is started BEFORE the outage and must reconnect by itself. While Redis is
    stopped, registrants save their profiles through the web app and a profile is created
    through the service layer: every save succeeds, its rematch request waiting in the
    outbox (written in the same transaction). Redis then comes back empty (it saves
    nothing to disk); the dispatcher, called as beat calls it every 5 s, sends the requests
    and the worker carries out every one: the live pairs include the saved profiles."""
    url, engine = worker_database
    with Session(engine) as session, session.begin():
        demo.seed_demo(session)
    with Session(engine) as session, session.begin():
        runs.run_full_rematch(session, top_k=TOP_K)
    settings = Settings(
        environment="test",
        instance_path=tmp_path,
        database_url=url,
        broker_url=private_redis.url,
        secret_key="test-secret-key",
        match_top_k=TOP_K,
    )
    app = build_app(settings)
    worker = start_worker(GRANTMATCH_BROKER_URL=private_redis.url)
    worker.wait_ready()
    researcher, founder = app.test_client(), app.test_client()
    login(researcher, RESEARCHER)
    login(founder, FOUNDER)
    researcher_id, founder_id = _profile_id(engine, RESEARCHER), _profile_id(engine, FOUNDER)

    # Before the outage a save reaches the worker at once (and the web app's connection
    # to Redis is in use when Redis goes away).
    _save_profile(
        researcher,
        summary="Low-loss tantalum thin films for long-coherence transmon qubits",
        fields=["quantum"],
    )
    wait_for(lambda: not _open_requests(engine), what="the save made before the outage")

    private_redis.stop()
    with db.session_scope() as session:  # a profile created through the service layer
        created = make_profile(
            session,
            country=Country.JP,
            summary="Diamond nitrogen-vacancy centres for quantum sensing of magnetic fields",
            fields=["quantum"],
        )
        created_id = created.id
    # Each save runs the dispatcher, which finds Redis gone (after a few seconds of retries
    # by the Redis client), keeps every pending request pending, and lets the save succeed.
    _save_profile(
        researcher,
        summary="Gallium nitride power transistors and silicon carbide MOSFET reliability",
        fields=["quantum", "semiconductors"],
    )
    _save_profile(
        founder,
        summary="Machine learning models that predict battery degradation from cycling data",
        fields=["clean_technology", "artificial_intelligence"],
    )
    saved = {researcher_id, founder_id, created_id}
    assert _open_requests(engine) == dict.fromkeys(saved, RequestStatus.PENDING)

    private_redis.start()

    def every_request_done() -> bool:
        dispatch_pending(settings)  # what beat does every 5 s
        return not _open_requests(engine)

    wait_for(every_request_done, timeout=120, interval=1, what="the requests saved in the outage")
    assert "Connection to broker lost" in worker.log()  # the same worker, reconnected
    assert _live_pair_count(engine, researcher_id, "semiconductors") > 0
    assert _live_pair_count(engine, founder_id, "artificial_intelligence") > 0
    assert _live_pair_count(engine, created_id, "quantum") > 0


# --- Redis lost its messages -------------------------------------------------------------


def test_a_full_run_whose_messages_redis_lost_completes_once_resumed(
    worker_database: tuple[str, Engine],
    start_worker: Callable[..., WorkerProcess],
    broker_url: str,
    tmp_path: Path,
) -> None:
    url, engine = worker_database
    with Session(engine) as session, session.begin():
        demo.seed_demo(session)
        runs.run_full_rematch(session, top_k=TOP_K)
    # A full run planned and its blocks sent, then Redis restarted without its data: the
    # run is in the database, its messages are nowhere.
    with Session(engine) as session, session.begin():
        run, blocks = runs.plan_full_run(session, top_k=TOP_K, block_size=40)
        run_id = run.id
    assert len(blocks) > 1
    redis.Redis.from_url(broker_url).flushdb()
    start_worker().wait_ready()
    env = environment(url, broker_url, tmp_path)
    # The next full rematch cannot start while this one is in progress ...
    grantmatch(["rematch", "--full"], env)
    # ... and an operator (or beat, once the run has been still past the visibility
    # timeout) sends its blocks again.
    resumed = grantmatch(["rematch", "--resume"], env)
    assert f"run {run_id}: its unfinished blocks are queued again" in resumed.stdout

    def live() -> bool:
        with Session(engine) as session:
            current = session.get(MatchRun, run_id)
            assert current is not None and current.status != RunStatus.FAILED, current.error
            return current.is_live

    wait_for(live, timeout=120)
    with Session(engine) as session:
        assert sorted(live_pairs(session)) == sorted(set(live_pairs(session)))
        assert set(live_pairs(session)) == single_process_pairs(session)
        full_runs = session.scalars(select(MatchRun.id).where(MatchRun.kind == RunKind.FULL))
        assert list(full_runs) == [run_id - 1, run_id]  # the refused --full made no run
