"""The progress of a full rematch on the officer console: JSON for the script, HTML without it."""

from __future__ import annotations

import re

from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from core.config import Settings
from core.models import MatchRun
from core.services import demo, matching, runs
from tests.conftest import TOP_K, login
from web.cli import cli

RESEARCHER, _FOUNDER, OFFICER = (a.email for a in demo.DEMO_ACCOUNTS)


def _run_one_block_in(session: Session) -> MatchRun:
    """A full run in progress with one of its blocks done."""
    run, block_ids = runs.plan_full_run(session, top_k=TOP_K, block_size=50)
    assert len(block_ids) > 1
    runs.score_block(session, block_id=block_ids[0])
    session.refresh(run)
    return run


def test_run_progress_gives_an_officer_the_figures_of_a_running_run(
    client: FlaskClient, session: Session
) -> None:
    run = _run_one_block_in(session)
    login(client, OFFICER)
    response = client.get(f"/officer/runs/{run.id}/progress")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    progress = response.get_json()
    assert progress["id"] == run.id
    assert progress["status"] == "running"
    assert progress["in_progress"] is True
    assert progress["is_live"] is False
    assert progress["blocks_done"] == 1
    assert progress["blocks_total"] == run.blocks_total
    assert progress["elapsed_seconds"] >= 0
    assert f"1 of {run.blocks_total} blocks done" in progress["label"]


def test_run_progress_of_the_live_run_gives_its_duration(
    client: FlaskClient, session: Session
) -> None:
    live = matching.live_run(session)
    assert live is not None and live.duration_seconds is not None
    login(client, OFFICER)
    progress = client.get(f"/officer/runs/{live.id}/progress").get_json()
    assert progress["status"] == "succeeded"
    assert progress["in_progress"] is False
    assert progress["is_live"] is True
    assert progress["elapsed_seconds"] == round(live.duration_seconds, 1)


def test_run_progress_label_is_in_the_officers_language(
    client: FlaskClient, session: Session
) -> None:
    run = _run_one_block_in(session)
    login(client, OFFICER)
    client.get("/officer/?lang=ja")
    label = client.get(f"/officer/runs/{run.id}/progress").get_json()["label"]
    assert "ブロック" in label and f"{run.blocks_total}" in label


def test_run_progress_of_an_unknown_run_is_404(client: FlaskClient) -> None:
    login(client, OFFICER)
    assert client.get("/officer/runs/999999/progress").status_code == 404


def test_run_progress_is_forbidden_to_a_registrant(client: FlaskClient, session: Session) -> None:
    live = matching.live_run(session)
    assert live is not None
    login(client, RESEARCHER)
    assert client.get(f"/officer/runs/{live.id}/progress").status_code == 403


def test_run_progress_sends_an_anonymous_visitor_to_login(
    client: FlaskClient, session: Session
) -> None:
    live = matching.live_run(session)
    assert live is not None
    response = client.get(f"/officer/runs/{live.id}/progress")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_dashboard_shows_progress_without_javascript(client: FlaskClient, session: Session) -> None:
    run = _run_one_block_in(session)
    login(client, OFFICER)
    page = client.get("/officer/").get_data(as_text=True)
    assert f'<progress max="{run.blocks_total}" value="1"' in page
    assert f"1 of {run.blocks_total} blocks done" in page
    assert f'data-progress-url="/officer/runs/{run.id}/progress"' in page
    # The refresher is a file loaded after parsing, never an inline script.
    assert '<script src="/static/progress.js" defer></script>' in page
    assert "<script>" not in page
    with client.get("/static/progress.js") as script:
        assert script.status_code == 200


def test_dashboard_without_a_run_in_progress_loads_no_script(client: FlaskClient) -> None:
    login(client, OFFICER)
    page = client.get("/officer/").get_data(as_text=True)
    assert "<progress" not in page
    assert "progress.js" not in page


def test_runs_command_shows_how_long_a_running_run_has_been_going(
    settings: Settings, session: Session
) -> None:
    run = _run_one_block_in(session)
    live = matching.live_run(session)
    assert live is not None
    env = {
        "GRANTMATCH_DATABASE_URL": settings.database_url,
        "GRANTMATCH_INSTANCE_PATH": str(settings.instance_path),
    }
    result = CliRunner().invoke(cli, ["runs", "--limit", "50"], env=env)
    assert result.exit_code == 0, result.output
    lines = {
        int(words[0]): line
        for line in result.output.splitlines()
        if (words := line.split()) and words[0].isdigit()
    }
    assert re.search(rf" elapsed=\d+\.\ds blocks=1/{run.blocks_total}$", lines[run.id]), lines
    assert re.search(r" took=\d+\.\ds", lines[live.id]), lines
