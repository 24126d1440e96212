"""Program officers' console: grant calls, their eligible pairs, exports and balanced release."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from core.db import session_scope
from core.errors import InvalidInput, NotFound
from core.models import GrantCall
from core.services import calls as call_service
from core.services import fields as field_service
from core.services.calls import MAX_DESCRIPTION_LENGTH, MAX_TITLE_LENGTH, CallDetails
from web.auth import officer_required
from web.profiles import ORGANIZATION_KINDS, MultiCheckboxField
from web.support import acting_user, show_errors

bp = Blueprint("calls", __name__, url_prefix="/officer/calls")
PAGE_SIZE = 50


class CallForm(FlaskForm):  # type: ignore[misc]
    # Presence and ranges are the service's to check (one message per field); the form
    # only parses, so that every problem shows at once.
    title = StringField(_l("Title"), validators=[Length(max=MAX_TITLE_LENGTH)])
    description = TextAreaField(_l("Description"), validators=[Length(max=MAX_DESCRIPTION_LENGTH)])
    fields = MultiCheckboxField(_l("MOC fields"))
    opens_on = DateField(_l("Opens on"), validators=[Optional()])
    closes_on = DateField(_l("Closes on"), validators=[Optional()])
    jp_organization_kinds = MultiCheckboxField(
        _l("Japanese organizations of these kinds"), choices=ORGANIZATION_KINDS
    )
    jp_max_staff = IntegerField(
        _l("Japanese organization: at most this many staff"), validators=[Optional()]
    )
    ca_organization_kinds = MultiCheckboxField(
        _l("Canadian organizations of these kinds"), choices=ORGANIZATION_KINDS
    )
    ca_max_staff = IntegerField(
        _l("Canadian organization: at most this many staff"), validators=[Optional()]
    )
    excluded_terms = TextAreaField(_l("Excluded topics"), validators=[Length(max=10_000)])
    distinct_organizations = BooleanField(
        _l("The two organizations must be distinct and unrelated"), default=True
    )
    max_proposals_per_profile = IntegerField(
        _l("Maximum proposals per profile"), validators=[Optional()]
    )
    startup_capacity = IntegerField(
        _l("Partners per startup in balanced introductions"),
        default=3,
        validators=[Optional()],
    )
    researcher_capacity = IntegerField(
        _l("Startups per researcher in balanced introductions"),
        default=3,
        validators=[Optional()],
    )
    requires_approval = BooleanField(_l("Introductions wait for an officer's approval"))


class ReleaseForm(FlaskForm):  # type: ignore[misc]
    fingerprint = HiddenField()


def _locale() -> str:
    return str(get_locale() or "en")


def _prepare(form: CallForm, session: Session) -> None:
    locale = _locale()
    form.fields.choices = [(f.code, f.label(locale)) for f in field_service.list_fields(session)]


def _details(form: CallForm) -> CallDetails:
    """What the form says, with None where a value is missing or did not parse."""

    def number(value: Any) -> int | None:
        return value if isinstance(value, int) else None

    return CallDetails(
        title=form.title.data or "",
        description=form.description.data or "",
        field_codes=list(form.fields.data or []),
        opens_on=form.opens_on.data,
        closes_on=form.closes_on.data,
        jp_organization_kinds=list(form.jp_organization_kinds.data or []),
        ca_organization_kinds=list(form.ca_organization_kinds.data or []),
        jp_max_staff=number(form.jp_max_staff.data),
        ca_max_staff=number(form.ca_max_staff.data),
        excluded_terms=call_service.parse_terms(form.excluded_terms.data or ""),
        distinct_organizations=bool(form.distinct_organizations.data),
        max_proposals_per_profile=number(form.max_proposals_per_profile.data),
        startup_capacity=number(form.startup_capacity.data) or 0,
        researcher_capacity=number(form.researcher_capacity.data) or 0,
        requires_approval=bool(form.requires_approval.data),
    )


def _form_data(details: CallDetails) -> dict[str, Any]:
    return {
        "title": details.title,
        "description": details.description,
        "fields": details.field_codes,
        "opens_on": details.opens_on,
        "closes_on": details.closes_on,
        "jp_organization_kinds": details.jp_organization_kinds,
        "ca_organization_kinds": details.ca_organization_kinds,
        "jp_max_staff": details.jp_max_staff,
        "ca_max_staff": details.ca_max_staff,
        "excluded_terms": "\n".join(details.excluded_terms),
        "distinct_organizations": details.distinct_organizations,
        "max_proposals_per_profile": details.max_proposals_per_profile,
        "startup_capacity": details.startup_capacity,
        "researcher_capacity": details.researcher_capacity,
        "requires_approval": details.requires_approval,
    }


def _submitted(form: CallForm, session: Session) -> CallDetails | None:
    """The details of a valid submission; None (with every message put next to its field)
    when the form was not submitted or has errors."""
    if not form.is_submitted():
        return None
    form.validate()
    details = _details(form)
    errors = call_service.validate_call(session, details)
    # A field the form could not parse already says so; the service speaks for the rest.
    remaining = {name: message for name, message in errors.items() if not _errors_of(form, name)}
    if remaining:
        show_errors(form, InvalidInput("invalid grant call", remaining))
    if form.errors or errors:
        return None
    return details


def _errors_of(form: CallForm, name: str) -> list[str]:
    field = getattr(form, name, None)
    return list(getattr(field, "errors", None) or [])


def _get_call(session: Session, call_id: int) -> GrantCall:
    try:
        return call_service.get_call(session, call_id)
    except NotFound:
        raise NotFound(_("There is no grant call %(id)s.", id=call_id)) from None


@bp.route("/")
@officer_required
def index() -> ResponseReturnValue:
    with session_scope() as session:
        return render_template(
            "officer/calls/index.html",
            calls=call_service.list_calls(session),
            released=call_service.released_counts(session),
            labels={f.code: f.label(_locale()) for f in field_service.list_fields(session)},
        )


@bp.route("/new", methods=["GET", "POST"])
@officer_required
def new() -> ResponseReturnValue:
    with session_scope() as session:
        form = CallForm()
        _prepare(form, session)
        details = _submitted(form, session)
        if details is None:
            status = 400 if form.is_submitted() else 200
            return render_template("officer/calls/edit.html", form=form, call=None), status
        call = call_service.create_call(session, officer=acting_user(session), details=details)
        call_id = call.id
    flash(_("Grant call created."))
    return redirect(url_for("calls.detail", call_id=call_id))


@bp.route("/<int:call_id>/edit", methods=["GET", "POST"])
@officer_required
def edit(call_id: int) -> ResponseReturnValue:
    with session_scope() as session:
        call = _get_call(session, call_id)
        form = CallForm(data=_form_data(call_service.details_of(call)))
        _prepare(form, session)
        details = _submitted(form, session)
        if details is None:
            status = 400 if form.is_submitted() else 200
            return render_template("officer/calls/edit.html", form=form, call=call), status
        call_service.update_call(
            session, officer=acting_user(session), call_id=call_id, details=details
        )
    flash(_("Grant call saved."))
    return redirect(url_for("calls.detail", call_id=call_id))


@bp.route("/<int:call_id>")
@officer_required
def detail(call_id: int) -> ResponseReturnValue:
    show_all = request.args.get("show") == "all"
    page = max(1, request.args.get("page", 1, type=int) or 1)
    with session_scope() as session:
        call = _get_call(session, call_id)
        pairs = call_service.call_pairs(session, call, include_ineligible=True)
        eligible = sum(1 for pair in pairs if pair.eligible)
        shown = pairs if show_all else [pair for pair in pairs if pair.eligible]
        pages = max(1, -(-len(shown) // PAGE_SIZE))
        page = min(page, pages)
        return render_template(
            "officer/calls/detail.html",
            call=call,
            pairs=shown[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
            eligible=eligible,
            ineligible=len(pairs) - eligible,
            shown=len(shown),
            show_all=show_all,
            page=page,
            pages=pages,
            released={
                (p.jp_profile_id, p.ca_profile_id)
                for p in call_service.released_proposals(session, call)
            },
            labels={f.code: f.label(_locale()) for f in field_service.list_fields(session)},
            kind_labels=dict(ORGANIZATION_KINDS),
            locale=_locale(),
        )


def _export(call_id: int) -> tuple[list[call_service.ExportRow], dict[str, str]]:
    from web import translate

    with session_scope() as session:
        call = _get_call(session, call_id)
        rows = call_service.export_rows(
            session, call, locale=_locale(), exported_by=acting_user(session)
        )
    labels = {key: translate(label) for key, label in call_service.EXPORT_COLUMNS}
    return rows, labels


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    return Response(
        data,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            # Contact details: keep them out of shared caches.
            "Cache-Control": "no-store",
        },
    )


@bp.route("/<int:call_id>/export.csv")
@officer_required
def export_csv(call_id: int) -> ResponseReturnValue:
    rows, labels = _export(call_id)
    return _download(
        call_service.write_csv(rows, labels=labels),
        "text/csv; charset=utf-8",
        f"call-{call_id}-shortlist.csv",
    )


@bp.route("/<int:call_id>/export.xlsx")
@officer_required
def export_xlsx(call_id: int) -> ResponseReturnValue:
    rows, labels = _export(call_id)
    return _download(
        call_service.write_xlsx(rows, labels=labels, sheet_title=_("Shortlist")),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"call-{call_id}-shortlist.xlsx",
    )


@bp.route("/<int:call_id>/balance")
@officer_required
def balance(call_id: int) -> ResponseReturnValue:
    with session_scope() as session:
        call = _get_call(session, call_id)
        result = call_service.balanced_assignment(session, call)
        form = ReleaseForm(data={"fingerprint": result.fingerprint})
        return render_template(
            "officer/calls/balance.html",
            call=call,
            result=result,
            form=form,
            released=call_service.released_counts(session).get(call.id, 0),
            labels={f.code: f.label(_locale()) for f in field_service.list_fields(session)},
            kind_labels=dict(ORGANIZATION_KINDS),
        )


@bp.route("/<int:call_id>/release", methods=["POST"])
@officer_required
def release(call_id: int) -> ResponseReturnValue:
    form = ReleaseForm()
    if not form.validate_on_submit():
        return redirect(url_for("calls.balance", call_id=call_id))
    with session_scope() as session:
        call = _get_call(session, call_id)
        result = call_service.balanced_assignment(session, call)
        # The balance is recomputed here: release it only if it is what the officer saw.
        unchanged = form.fingerprint.data == result.fingerprint
        if unchanged:
            count = call_service.release_assignment(
                session, call, acting_user(session), result.chosen
            )
    if not unchanged:
        flash(
            _("The pairs changed since the balance was shown; check the new one and release it."),
            "error",
        )
        return redirect(url_for("calls.balance", call_id=call_id))
    flash(
        ngettext(
            "%(num)s pair released as a proposal of this call.",
            "%(num)s pairs released as proposals of this call.",
            count,
        )
    )
    return redirect(url_for("calls.detail", call_id=call_id))
