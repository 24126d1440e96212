"""Fixtures for the integration tests: a database of their own (the workers are other
processes, so nothing is rolled back), the test Redis and real `celery worker` processes."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine

from core import db, schema
from tests.conftest import database_url_for_tests
from tests.workers.support import WorkerProcess, environment, start_worker_process


@pytest.fixture
def broker_url() -> str:
    """The test Redis (emptied); skipped when unreachable, except on CI."""
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
    """A migrated, empty database that the test commits to: (URL, engine)."""
    url = database_url_for_tests(tmp_path, "workers")
    schema.upgrade(url)
    engine = db.make_engine(url)
    yield url, engine
    engine.dispose()


@pytest.fixture
def start_worker(
    worker_database: tuple[str, Engine], broker_url: str, tmp_path: Path
) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real `celery worker` processes on the test database and Redis; keyword
    arguments are GRANTMATCH_* settings of that worker. All of them stop after the test."""
    workers: list[WorkerProcess] = []

    def start(**settings: str) -> WorkerProcess:
        env = environment(worker_database[0], broker_url, tmp_path) | settings
        number = len(workers)
        worker = start_worker_process(env, tmp_path / f"worker-{number}.log", f"worker{number}")
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait_stopped()


@pytest.fixture
def worker(
    worker_database: tuple[str, Engine],
    broker_url: str,
    tmp_path: Path,
    start_worker: Callable[..., WorkerProcess],
) -> dict[str, str]:
    """One worker running; returns the environment for commands that talk to it."""
    start_worker()
    return environment(worker_database[0], broker_url, tmp_path)
