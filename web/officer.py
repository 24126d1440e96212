"""The program officers' console: pairs per field and rematch runs."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from kombu.exceptions import OperationalError

from core.db import session_scope
from core.services import fields as field_service
from core.services import matching
from web.auth import officer_required
from workers import tasks
from workers.dispatch import dispatch_pending

bp = Blueprint("officer", __name__, url_prefix="/officer")
PAGE_SIZE = 50


@bp.route("/")
@officer_required
def dashboard() -> ResponseReturnValue:
    with session_scope() as session:
        return render_template(
            "officer/dashboard.html",
            fields=field_service.list_fields(session),
            counts=matching.pair_counts_by_field(session),
            runs=matching.latest_runs(session),
            live=matching.live_run(session),
            locale=current_user.locale,
        )


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
