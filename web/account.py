"""The account page: language, digest, password and address changes, and the privacy
rights (download my data, delete my account); one-click unsubscribe from digests."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from core.db import session_scope
from core.errors import InvalidInput
from core.links import UNSUBSCRIBE
from core.models import DigestFrequency, Locale
from core.services import accounts
from web.auth import LANGUAGE_CHOICES, SignedInUser
from web.support import acting_user, hand_over, links, show_errors

bp = Blueprint("account", __name__)


class PreferencesForm(FlaskForm):  # type: ignore[misc]
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    locale = SelectField(_l("Language for emails and pages"), choices=LANGUAGE_CHOICES)
    digest = SelectField(
        _l("Email me new proposals"),
        choices=[
            ("weekly", _l("Weekly")),
            ("daily", _l("Daily")),
            ("never", _l("Never")),
        ],
    )


class PasswordForm(FlaskForm):  # type: ignore[misc]
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=accounts.MAX_PASSWORD_LENGTH)]
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )


class EmailForm(FlaskForm):  # type: ignore[misc]
    new_email = EmailField(_l("New email address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Current password"), validators=[DataRequired()])


class DeleteForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(_l("Current password"), validators=[DataRequired()])


def _forms() -> dict[str, FlaskForm]:
    return {
        "preferences": PreferencesForm(prefix="preferences"),
        "password": PasswordForm(prefix="password"),
        "email": EmailForm(prefix="email"),
        "delete": DeleteForm(prefix="delete"),
    }


def _page(forms: dict[str, FlaskForm], status: int = 200) -> ResponseReturnValue:
    return render_template("account.html", forms=forms), status


@bp.route("/account/")
@login_required
def settings_page() -> ResponseReturnValue:
    forms = _forms()
    with session_scope() as session:
        user = acting_user(session)
        preferences = forms["preferences"]
        preferences.display_name.data = user.display_name
        preferences.locale.data = user.locale.value
        preferences.digest.data = user.digest_frequency.value
    return _page(forms)


@bp.route("/account/preferences", methods=["POST"])
@login_required
def save_preferences() -> ResponseReturnValue:
    forms = _forms()
    form = forms["preferences"]
    if not form.validate_on_submit():
        return _page(forms, 400)
    with session_scope() as session:
        user = acting_user(session)
        accounts.update_preferences(
            session,
            user=user,
            display_name=form.display_name.data or "",
            locale=Locale(form.locale.data),
            digest=DigestFrequency(form.digest.data),
        )
        signed_in = SignedInUser.of(user)
    login_user(signed_in)
    from flask import session as browser_session

    browser_session.pop("locale", None)  # the new preference decides the language
    flash(_("Your preferences are saved."))
    return redirect(url_for("account.settings_page"))


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password() -> ResponseReturnValue:
    forms = _forms()
    form = forms["password"]
    if not form.validate_on_submit():
        return _page(forms, 400)
    try:
        with session_scope() as session:
            accounts.change_password(
                session,
                user=acting_user(session),
                current=form.current_password.data or "",
                new_password=form.new_password.data or "",
            )
    except InvalidInput as error:
        show_errors(form, error)
        return _page(forms, 400)
    flash(_("Your password is changed."))
    return redirect(url_for("account.settings_page"))


@bp.route("/account/email", methods=["POST"])
@login_required
def change_email() -> ResponseReturnValue:
    forms = _forms()
    form = forms["email"]
    if not form.validate_on_submit():
        return _page(forms, 400)
    try:
        with session_scope() as session:
            accounts.request_email_change(
                session,
                user=acting_user(session),
                new_email=form.new_email.data or "",
                password=form.password.data or "",
                links=links(),
            )
    except InvalidInput as error:
        show_errors(form, error)
        return _page(forms, 400)
    hand_over()
    flash(_("We sent a confirmation link to the new address; it takes effect once you open it."))
    return redirect(url_for("account.settings_page"))


@bp.route("/account/export")
@login_required
def export() -> ResponseReturnValue:
    with session_scope() as session:
        data = accounts.export_data(session, user=acting_user(session))
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="grantmatch-my-data.json"'},
    )


@bp.route("/account/delete", methods=["POST"])
@login_required
def delete() -> ResponseReturnValue:
    forms = _forms()
    form = forms["delete"]
    if not form.validate_on_submit():
        return _page(forms, 400)
    try:
        with session_scope() as session:
            accounts.delete_account(
                session, user=acting_user(session), password=form.password.data or ""
            )
    except InvalidInput as error:
        show_errors(form, error)
        return _page(forms, 400)
    logout_user()
    flash(_("Your account and everything about it is deleted."))
    return redirect(url_for("pages.home"))


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> ResponseReturnValue:
    """GET asks for confirmation (link scanners must not unsubscribe anyone); POST, from
    the page or a mail client's one-click (RFC 8058), unsubscribes."""
    try:
        user_id = int(links().read(UNSUBSCRIBE, token)["u"])
    except (InvalidInput, KeyError, TypeError, ValueError):
        message = _("This link is not valid. Check that you copied it whole.")
        return render_template("error.html", status=400, message=message), 400
    if request.method == "GET":
        return render_template("unsubscribe.html", token=token, done=False)
    with session_scope() as session:
        accounts.unsubscribe(session, user_id=user_id)
    return render_template("unsubscribe.html", token=token, done=True)
