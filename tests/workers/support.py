"""Helpers for the integration tests that run real `celery worker` processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Match
from core.services import matching
from matcher import TfidfMatcher

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TOP_K = 20
# (field code, Japanese profile, Canadian profile, score, rank on each side)
Pair = tuple[str, int, int, float, int, int]


def environment(database_url: str, broker_url: str, instance: Path) -> dict[str, str]:
    """The environment of a process started by an operator: only the settings given here."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRANTMATCH_")}
    env.update(
        GRANTMATCH_DATABASE_URL=database_url,
        GRANTMATCH_BROKER_URL=broker_url,
        GRANTMATCH_INSTANCE_PATH=str(instance),
    )
    return env


def grantmatch(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
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


def wait_for(
    condition: Callable[[], bool],
    *,
    timeout: float = 60.0,
    interval: float = 0.25,
    what: str = "the worker",
) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def task_ids(log: str, task: str, event: str) -> set[str]:
    """Ids of the ``task`` messages a worker log says were ``received`` (or ``succeeded``)."""
    return set(re.findall(rf"Task {re.escape(task)}\[([0-9a-f-]+)\] {event}", log))


@dataclass
class WorkerProcess:
    """One `celery worker`: its main process and pool children, in a process group of its own."""

    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until the worker is connected to the broker and consuming."""
        wait_for(
            lambda: " ready." in self.log(),
            timeout=timeout,
            what=f"{self.log_path.name} to be ready",
        )

    def kill(self) -> None:
        """SIGKILL the main process and its pool children at once, as a machine losing power
        would: nothing is acknowledged, nothing is rolled back by the worker itself."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def pause(self) -> None:
        """SIGSTOP the whole worker: it stays exactly where it is until :meth:`resume`."""
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.killpg(self.process.pid, signal.SIGCONT)

    def terminate(self) -> None:
        """Ask for a warm shutdown (SIGTERM to the main process)."""
        if self.process.poll() is None:
            self.resume()  # a paused worker would not hear it
            self.process.terminate()

    def wait_stopped(self) -> None:
        """Wait for the shutdown; SIGKILL the whole group if it does not come in time."""
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.log_file.close()


def start_worker_process(env: dict[str, str], log_path: Path, hostname: str) -> WorkerProcess:
    """Start `celery -A workers.app worker` with one pool process, logging to ``log_path``."""
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "workers.app", "worker",
            "--pool=prefork", "--concurrency=1", "--loglevel=INFO",
            "--without-heartbeat", "--without-gossip", "--without-mingle",
            f"--hostname={hostname}@%h",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        # Its own process group, so that kill() reaches the pool children too.
        start_new_session=True,
    )  # fmt: skip
    return WorkerProcess(process, log_path, log_file)


def live_pairs(session: Session) -> list[Pair]:
    """Every pair of the live run (a list: a pair stored twice shows up twice)."""
    run = matching.live_run(session)
    assert run is not None
    return [
        (m.field.code, m.jp_profile_id, m.ca_profile_id, round(m.score, 5), m.rank_jp, m.rank_ca)
        for m in session.scalars(select(Match).where(Match.run_id == run.id))
    ]


def single_process_pairs(session: Session) -> set[Pair]:
    """The pairs the matcher finds for every matchable profile in one process, in memory."""
    docs = [matching.to_doc(p) for p in matching.matchable_profiles(session)]
    return {
        (p.field, p.jp_id, p.ca_id, round(p.score, 5), p.rank_jp, p.rank_ca)
        for p in TfidfMatcher(top_k=TOP_K).fit(docs).match(docs)
    }
