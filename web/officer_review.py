"""Program officers' console: the review queue, one pair in full, decisions (one by one
and in bulk), CSV export of any queue view, and conflicts of interest."""

from __future__ import annotations

import re
from collections.abc import Iterator

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from core.db import session_scope
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.models import Decision, ReasonCode
from core.regions import REGIONS
from core.services import calls as call_service
from core.services import fields as field_service
from core.services import reviews
from core.services.reviews import PAIR_KINDS, REVIEW_STATES, SORTS, QueueFilters
from web.auth import officer_required
from web.support import acting_user, hand_over, links, show_errors

bp = Blueprint("review", __name__, url_prefix="/officer")

DECISIONS = [
    ("approve", _l("Approve for introduction")),
    ("reject", _l("Reject")),
    ("shortlist", _l("Shortlist")),
    ("note", _l("Add a note")),
]
REASONS = [
    ("", _l("Reason (needed to reject)")),
    ("off_topic", _l("Off-topic")),
    ("ineligible", _l("Ineligible")),
    ("conflict_of_interest", _l("Conflict of interest")),
    ("duplicate", _l("Duplicate")),
    ("other", _l("Other")),
]
_PAIR = re.compile(r"^(\d{1,12}):(\d{1,12})$")
# The queue counts matching pairs up to this many (20 pages): beyond it the page says
# "more than" instead of reading the whole run to count it on every view.
QUEUE_COUNT_LIMIT = 1000


class DecisionForm(FlaskForm):  # type: ignore[misc]
    decision = SelectField(
        _l("Decision"), choices=DECISIONS, validators=[AnyOf([d for d, _ in DECISIONS])]
    )
    reason_code = SelectField(_l("Reason"), choices=REASONS, validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Length(max=reviews.MAX_NOTE_LENGTH)])


class ConflictForm(FlaskForm):  # type: ignore[misc]
    organization_id = StringField(validators=[DataRequired(), Length(max=12)])
    note = StringField(_l("Note"), validators=[Length(max=500)])


def _float_arg(name: str) -> float | None:
    raw = request.args.get(name, "").strip()
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return value if value is not None and -1.0 <= value <= 2.0 else None


def _filters() -> QueueFilters:
    args = request.args
    call = args.get("call", "")
    return QueueFilters(
        field=args.get("field", "")[:40],
        min_score=_float_arg("min_score"),
        max_score=_float_arg("max_score"),
        pair_kind=args.get("pair_kind", "") if args.get("pair_kind") in PAIR_KINDS else "",
        region=args.get("region", "") if args.get("region") in REGIONS else "",
        organization_kind=args.get("organization_kind", "")[:30],
        review_status=args.get("status", "") if args.get("status") in REVIEW_STATES else "",
        only_new=args.get("new") == "1",
        call_id=int(call) if call.isdigit() and len(call) < 12 else None,
    )


def _sort() -> str:
    sort = request.args.get("sort", "score")
    return sort if sort in SORTS else "score"


def highlight(text: str, words: list[str]) -> Markup:
    """``text`` escaped, with every occurrence of ``words`` (case-insensitive) marked."""
    wanted = sorted({w for w in words if w.strip()}, key=len, reverse=True)
    if not wanted:
        return Markup(escape(text))
    pattern = re.compile("|".join(re.escape(w) for w in wanted), re.IGNORECASE)
    parts: list[str] = []
    last = 0
    for found in pattern.finditer(text):
        parts.append(str(escape(text[last : found.start()])))
        parts.append(f"<mark>{escape(found.group(0))}</mark>")
        last = found.end()
    parts.append(str(escape(text[last:])))
    return Markup("".join(parts))


@bp.route("/pairs")
@officer_required
def queue() -> ResponseReturnValue:
    filters, sort = _filters(), _sort()
    page = request.args.get("page", 1, type=int) or 1
    with session_scope() as session:
        try:
            result = reviews.review_queue(
                session, filters, sort=sort, page=page, count_limit=QUEUE_COUNT_LIMIT
            )
        except NotFound:
            abort(404)
        eligible = call_service.eligible_calls_for(session, [row.match for row in result.rows])
        return render_template(
            "officer/queue.html",
            result=result,
            filters=filters,
            sort=sort,
            eligible=eligible,
            fields=field_service.list_fields(session),
            calls=call_service.list_calls(session),
            regions=list(REGIONS.values()),
            pair_kinds=PAIR_KINDS,
            states=REVIEW_STATES,
            form=DecisionForm(),
            locale=str(get_locale() or "en"),
            query_args={k: v for k, v in request.args.items() if k != "page"},
        )


@bp.route("/pairs.csv")
@officer_required
def queue_csv() -> ResponseReturnValue:
    filters, sort = _filters(), _sort()

    def generate() -> Iterator[str]:
        with session_scope() as session:
            yield from reviews.queue_csv(
                session, filters, sort=sort, exported_by=acting_user(session)
            )

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="pairs.csv"'},
    )


def _parse_pair(raw: str) -> tuple[int, int]:
    found = _PAIR.match(raw)
    if not found:
        abort(400)
    return int(found.group(1)), int(found.group(2))


@bp.route("/pairs/bulk", methods=["POST"])
@officer_required
def bulk() -> ResponseReturnValue:
    form = DecisionForm()
    pairs = [_parse_pair(raw) for raw in request.form.getlist("pair")[:500]]
    back = request.form.get("back", "")
    target = back if back.startswith("/officer/pairs") and not back.startswith("//") else None
    if not form.validate_on_submit() or not pairs:
        flash(_("Choose at least one pair and a decision."), "error")
        return redirect(target or url_for("review.queue"))
    try:
        with session_scope() as session:
            result = reviews.decide_many(
                session,
                officer=acting_user(session),
                pairs=pairs,
                decision=Decision(form.decision.data),
                reason_code=ReasonCode(form.reason_code.data) if form.reason_code.data else None,
                note=form.note.data or "",
                links=links(),
            )
    except InvalidInput as error:
        show_errors(form, error)
        flash(" ".join(str(e) for f in form for e in f.errors), "error")
        return redirect(target or url_for("review.queue"))
    hand_over()
    flash(_("Decision recorded on %(count)s pairs.", count=result.done))
    if result.refused:
        flash(
            _(
                "%(count)s pairs were left alone: a declared conflict of interest or a pair "
                "no longer proposed.",
                count=len(result.refused),
            ),
            "error",
        )
    return redirect(target or url_for("review.queue"))


def _pair_page(session: Session, jp_id: int, ca_id: int, form: DecisionForm) -> str:
    detail = reviews.pair_detail(session, jp_id=jp_id, ca_id=ca_id, officer=acting_user(session))
    return render_template(
        "officer/pair.html",
        detail=detail,
        eligible=call_service.eligible_calls_for(session, detail.live_matches),
        jp_words=[jp for jp, _ in detail.terms],
        ca_words=[ca for _, ca in detail.terms],
        highlight=highlight,
        form=form,
        locale=str(get_locale() or "en"),
    )


@bp.route("/pairs/<int:jp_id>-<int:ca_id>")
@officer_required
def pair(jp_id: int, ca_id: int) -> ResponseReturnValue:
    with session_scope() as session:
        try:
            return _pair_page(session, jp_id, ca_id, DecisionForm())
        except NotFound:
            abort(404)


@bp.route("/pairs/<int:jp_id>-<int:ca_id>/decide", methods=["POST"])
@officer_required
def decide(jp_id: int, ca_id: int) -> ResponseReturnValue:
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(_("Choose a decision."), "error")
        return redirect(url_for("review.pair", jp_id=jp_id, ca_id=ca_id))
    try:
        with session_scope() as session:
            reviews.decide(
                session,
                officer=acting_user(session),
                jp_id=jp_id,
                ca_id=ca_id,
                decision=Decision(form.decision.data),
                reason_code=ReasonCode(form.reason_code.data) if form.reason_code.data else None,
                note=form.note.data or "",
                links=links(),
            )
    except NotFound:
        abort(404)
    except PermissionDenied:
        flash(_("You declared a conflict of interest with one of these organizations."), "error")
        return redirect(url_for("review.pair", jp_id=jp_id, ca_id=ca_id)), 303
    except InvalidInput as error:
        show_errors(form, error)
        with session_scope() as session:
            page = _pair_page(session, jp_id, ca_id, form)
        return page, 400
    hand_over()
    flash(_("Decision recorded."))
    return redirect(url_for("review.pair", jp_id=jp_id, ca_id=ca_id))


@bp.route("/conflicts", methods=["GET", "POST"])
@officer_required
def conflicts() -> ResponseReturnValue:
    form = ConflictForm()
    search = request.args.get("q", "")[:100]
    with session_scope() as session:
        officer = acting_user(session)
        if form.validate_on_submit():
            raw = form.organization_id.data or ""
            if not raw.isdigit():
                abort(400)
            try:
                reviews.declare_conflict(
                    session, officer=officer, organization_id=int(raw), note=form.note.data or ""
                )
            except NotFound:
                abort(404)
            flash(_("Conflict of interest declared."))
            return redirect(url_for("review.conflicts"))
        return render_template(
            "officer/conflicts.html",
            conflicts=reviews.conflicts_of(session, officer),
            found=reviews.search_organizations(session, search),
            search=search,
            form=form,
        )


@bp.route("/conflicts/<int:organization_id>/withdraw", methods=["POST"])
@officer_required
def withdraw_conflict(organization_id: int) -> ResponseReturnValue:
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    with session_scope() as session:
        reviews.withdraw_conflict(
            session, officer=acting_user(session), organization_id=organization_id
        )
    flash(_("Conflict of interest withdrawn."))
    return redirect(url_for("review.conflicts"))
