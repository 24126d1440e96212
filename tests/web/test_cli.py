"""The `grantmatch` command line, run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GRANTMATCH = str(Path(sys.executable).parent / "grantmatch")


def run(
    args: list[str], tmp_path: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GRANTMATCH_")}
    environ.update(GRANTMATCH_INSTANCE_PATH=str(tmp_path), **env)
    return subprocess.run(
        [GRANTMATCH, *args], input=stdin, env=environ, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"GRANTMATCH_DATABASE_URL": "nonsense"}, "GRANTMATCH_DATABASE_URL"),
        (
            {"GRANTMATCH_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
            "GRANTMATCH_DATABASE_URL",
        ),
        ({"GRANTMATCH_ENV": "production"}, "GRANTMATCH_SECRET_KEY"),
    ],
)
def test_configuration_errors_stop_with_one_line_naming_the_setting(
    tmp_path: Path, env: dict[str, str], setting: str
) -> None:
    result = run(["migrate"], tmp_path, **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert setting in lines[0]
    assert "Traceback" not in result.stderr


def test_commands_refuse_an_unmigrated_database(tmp_path: Path) -> None:
    result = run(["runs"], tmp_path)
    assert result.returncode == 1
    assert "grantmatch migrate" in result.stderr


def test_migrate_create_user_and_runs_on_the_embedded_default(tmp_path: Path) -> None:
    assert run(["migrate"], tmp_path).returncode == 0
    assert (tmp_path / "grantmatch.db").exists()
    assert run(["migrate"], tmp_path).returncode == 0  # safe to run twice
    password = "a long enough password\n"
    created = run(
        ["create-user", "--email", "officer@agency.example", "--role", "officer"],
        tmp_path,
        stdin=password,
    )
    assert created.returncode == 0, created.stderr
    assert "created officer officer@agency.example" in created.stdout
    again = run(["create-user", "--email", "officer@agency.example"], tmp_path, stdin=password)
    assert again.returncode == 1 and "already exists" in again.stderr
    result = run(["rematch", "--full"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert " live" in run(["runs"], tmp_path).stdout


def test_rematch_resume_finishes_a_full_run_left_unfinished(tmp_path: Path) -> None:
    assert run(["migrate"], tmp_path).returncode == 0
    assert run(["seed-demo"], tmp_path).returncode == 0
    assert "no full rematch in progress" in run(["rematch", "--resume"], tmp_path).stdout
    # A full run planned, then its process stopped before any block was scored.
    planned = subprocess.run(
        [
            sys.executable,
            "-c",
            "from core import db\n"
            "from core.config import Settings\n"
            "from core.services import runs\n"
            "db.configure(Settings.from_env().database_url)\n"
            "with db.session_scope() as session:\n"
            "    run, _ = runs.plan_full_run(session, top_k=20, block_size=40)\n"
            "    print(run.id)\n",
        ],
        env={**os.environ, "GRANTMATCH_INSTANCE_PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert planned.returncode == 0, planned.stderr
    run_id = planned.stdout.strip()
    assert "a full rematch is already in progress" in run(["rematch", "--full"], tmp_path).stdout
    resumed = run(["rematch", "--resume"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"run {run_id} resumed; it is live" in resumed.stdout
    listed = run(["runs"], tmp_path).stdout.splitlines()
    assert listed[0].split()[:3] == [run_id, "full", "succeeded"] and " live " in listed[0]
