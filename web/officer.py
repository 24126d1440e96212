"""The program officers' console: pairs per field and rematch runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from kombu.exceptions import OperationalError

from core.db import session_scope
from core.errors import NotFound
from core.models import MatchRun, utcnow
from core.services import fields as field_service
from core.services import matching
from core.services.runs import IN_PROGRESS
from web.auth import officer_required
from workers import tasks
from workers.dispatch import dispatch_pending

bp = Blueprint("officer", __name__, url_prefix="/officer")
PAGE_SIZE = 50


def elapsed_seconds(run: MatchRun, now: datetime) -> float | None:
    """Seconds from the start of ``run`` to its end, or to ``now`` while it is in progress."""
    if run.started_at is None:
        return None
    end = run.finished_at or now
    return max(0.0, (end - run.started_at).total_seconds())


def run_progress_of(run: MatchRun, now: datetime) -> dict[str, Any]:
    """What the progress bar of ``run`` shows; the same figures with and without JavaScript."""
    elapsed = elapsed_seconds(run, now)
    return {
        "id": run.id,
        "kind": run.kind.value,
        "status": run.status.value,
        "in_progress": run.status in IN_PROGRESS,
        "is_live": run.is_live,
        "blocks_done": run.blocks_done,
        "blocks_total": run.blocks_total,
        "elapsed_seconds": None if elapsed is None else round(elapsed, 1),
        "label": _(
            "%(done)s of %(total)s blocks done, %(elapsed)s elapsed",
            done=run.blocks_done,
            total=run.blocks_total,
            # H:MM:SS reads the same in every language of the interface.
            elapsed="—" if elapsed is None else str(timedelta(seconds=int(elapsed))),
        ),
    }


@bp.route("/")
@officer_required
def dashboard() -> ResponseReturnValue:
    now = utcnow()
    with session_scope() as session:
        latest = matching.latest_runs(session)
        return render_template(
            "officer/dashboard.html",
            fields=field_service.list_fields(session),
            counts=matching.pair_counts_by_field(session),
            runs=latest,
            live=matching.live_run(session),
            progress={
                run.id: run_progress_of(run, now)
                for run in latest
                if run.status in IN_PROGRESS and run.blocks_total
            },
            locale=current_user.locale,
        )


@bp.route("/runs/<int:run_id>/progress")
@officer_required
def run_progress(run_id: int) -> ResponseReturnValue:
    """A run's status, blocks done / total and elapsed time, as JSON (the dashboard polls it)."""
    with session_scope() as session:
        run = session.get(MatchRun, run_id)
        if run is None:
            raise NotFound(_("No matching run %(id)s.", id=run_id))
        progress = run_progress_of(run, utcnow())
    # Figures change every few seconds: never serve them from a cache.
    return progress, {"Cache-Control": "no-store"}


@bp.route("/fields/<code>")
@officer_required
def field_pairs(code: str) -> ResponseReturnValue:
    page = max(1, request.args.get("page", 1, type=int) or 1)
    with session_scope() as session:
        field = field_service.get_field(session, code)
        pairs, total = matching.pairs_for_field(
            session, field_code=code, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        return render_template(
            "officer/field.html",
            field=field,
            pairs=pairs,
            total=total,
            page=page,
            pages=max(1, -(-total // PAGE_SIZE)),
            locale=current_user.locale,
        )


@bp.route("/rematch", methods=["POST"])
@officer_required
def start_full_rematch() -> ResponseReturnValue:
    settings = current_app.config["GRANTMATCH"]
    if settings.uses_broker:
        try:
            tasks.full_rematch.apply_async(retry=False)
        except OperationalError:
            flash(_("The task queue is unavailable; please try again in a few minutes."), "error")
            return redirect(url_for("officer.dashboard"))
        flash(_("A full rematch has started; the new pairs go live when it finishes."))
    else:
        run_id = tasks.full_rematch()
        dispatch_pending(settings)  # edits made during the run apply to the new one
        if run_id is None:
            flash(_("A full rematch is already in progress."))
        else:
            flash(_("Full rematch finished: run %(run)s is live.", run=run_id))
    return redirect(url_for("officer.dashboard"))
