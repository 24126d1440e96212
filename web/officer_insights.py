"""Program officers' console: insights (statistics per field, what a rematch changed)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import format_timedelta, get_locale
from flask_babel import gettext as _

from core.db import session_scope
from core.models import Country, ProfileKind
from core.services import dashboard, rematch_diff
from core.services.fields import get_field
from core.services.rematch_diff import ChangeKind
from web.auth import officer_required

bp = Blueprint("insights", __name__, url_prefix="/officer")

# Presentation colours (SVG fill attributes); each contrasts at least 3:1 with white.
COUNTRY_FILLS = {Country.JP: "#b3261e", Country.CA: "#0b5cad"}
STAGE_FILLS = ("#0b5cad", "#7a4dbf", "#1b5e20")
OVERVIEW_LIMIT = 10
FIELD_PAGE_SIZE = 50


def _locale() -> str:
    return str(get_locale() or "en")


def _country_names() -> dict[Country, str]:
    return {Country.JP: _("Japan"), Country.CA: _("Canada")}


def _kind_names() -> dict[ProfileKind, str]:
    return {ProfileKind.RESEARCHER: _("Researchers"), ProfileKind.STARTUP: _("Startups")}


def _change_names() -> dict[ChangeKind, str]:
    return {
        ChangeKind.NEW: _("New pairs"),
        ChangeKind.DROPPED: _("Dropped pairs"),
        ChangeKind.KEPT: _("Kept (no longer proposed)"),
        ChangeKind.CHANGED: _("Large score changes"),
    }


def _charts(stats: dashboard.DashboardStats, locale: str) -> dict[str, Any]:
    """What the chart macros draw: plain labels and numbers, in field order."""
    countries = _country_names()
    profiles = {
        "series": [{"name": countries[c], "fill": COUNTRY_FILLS[c]} for c in Country],
        "rows": [
            {
                "label": f.field.label(locale),
                "counts": [f.profiles_of(c).consented for c in Country],
            }
            for f in stats.fields
        ],
    }
    funnel = {
        "stages": [
            {"name": name, "fill": fill}
            for name, fill in zip(
                (_("Proposed"), _("One side or both interested"), _("Introductions made")),
                STAGE_FILLS,
                strict=True,
            )
        ],
        "rows": [
            {
                "label": f.field.label(locale),
                "counts": [f.pairs.proposed, f.pairs.interested, f.pairs.introduced],
            }
            for f in stats.fields
        ],
    }
    return {"profiles": profiles, "funnel": funnel}


def _times(fresh: dashboard.Freshness) -> dict[str, str]:
    """The live run's duration (H:MM:SS reads the same in every language) and age."""
    times = {"duration": "", "age": ""}
    if fresh.live_duration_seconds is not None:
        times["duration"] = str(timedelta(seconds=int(fresh.live_duration_seconds)))
    if fresh.live_age_seconds is not None:
        times["age"] = str(format_timedelta(timedelta(seconds=fresh.live_age_seconds)))
    return times


@bp.route("/statistics")
@officer_required
def statistics() -> ResponseReturnValue:
    """Profiles and the pair funnel per field, country and kind; freshness of the pairs."""
    locale = _locale()
    with session_scope() as session:
        stats = dashboard.dashboard_stats(session)
        return render_template(
            "officer/statistics.html",
            stats=stats,
            charts_data=_charts(stats, locale),
            times=_times(stats.freshness),
            countries=_country_names(),
            kinds=_kind_names(),
            empty_profiles=dashboard.ProfileCounts(),
            locale=locale,
        )


def _threshold() -> float:
    raw = request.args.get("threshold", "").strip()
    if not raw:
        return rematch_diff.DEFAULT_THRESHOLD
    try:
        value = float(raw)
    except ValueError:
        abort(400, _("The threshold must be a number between 0 and 1."))
    if not 0 <= value <= 1:
        abort(400, _("The threshold must be a number between 0 and 1."))
    return value


@bp.route("/changes")
@bp.route("/changes/<int:run_id>")
@officer_required
def changes(run_id: int | None = None) -> ResponseReturnValue:
    """New, dropped, kept and rescored pairs of a full run against the run it replaced
    (the latest full run unless ``run_id`` is given); ``?field=`` pages one field."""
    threshold = _threshold()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    code = request.args.get("field", "").strip()
    with session_scope() as session:
        if run_id is None:
            run = rematch_diff.latest_full_run(session)
        else:
            run = rematch_diff.full_run(session, run_id)
        field = get_field(session, code) if code else None
        previous = rematch_diff.previous_full_run(session, run) if run is not None else None
        diff = None
        limit = FIELD_PAGE_SIZE if field is not None else OVERVIEW_LIMIT
        if run is not None and previous is not None:
            diff = rematch_diff.diff_runs(
                session,
                run.id,
                previous.id,
                threshold=threshold,
                limit=limit,
                offset=(page - 1) * limit if field is not None else 0,
                field_id=field.id if field is not None else None,
            )
        pages = 1
        if diff is not None and field is not None:
            largest = max((diff.fields[0].count(kind) for kind in ChangeKind), default=0)
            pages = max(1, -(-largest // limit))
        return render_template(
            "officer/changes.html",
            run=run,
            previous=previous,
            diff=diff,
            field=field,
            page=page,
            pages=pages,
            threshold=threshold,
            kinds=list(ChangeKind),
            change_names=_change_names(),
            recent=rematch_diff.finished_full_runs(session, limit=10),
            default_threshold=rematch_diff.DEFAULT_THRESHOLD,
            locale=_locale(),
        )
