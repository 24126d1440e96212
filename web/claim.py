"""Claiming a profile a program officer imported: the invitation's link leads here.

The invited person chooses a password (the link proves their address, so the account is
verified at once), becomes the owner of the profile, and goes on to the consent step: the
profile is matched only after they agree to share it. Someone who has an account with
that address already logs in first, then takes the profile with one button.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from core.db import session_scope
from core.errors import Conflict, InvalidInput, PermissionDenied
from core.models import Locale
from core.services import accounts, imports
from core.services.imports import Invitation
from web.auth import LANGUAGE_CHOICES, SignedInUser, session_locale_reset
from web.security import REGISTER_LIMIT, limiter
from web.support import acting_user, hand_over, links, show_errors

bp = Blueprint("claim", __name__)


class ClaimForm(FlaskForm):  # type: ignore[misc]
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=accounts.MAX_PASSWORD_LENGTH)]
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    locale = SelectField(_l("Language for emails and pages"), choices=LANGUAGE_CHOICES)


class TakeForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: an account holder takes the profile with one button."""


def _refused(error: InvalidInput) -> ResponseReturnValue:
    reason = error.errors.get("token")
    if reason == "expired":
        message = _(
            "This invitation has expired. Ask the program officer who invited you to send it "
            "again, or create an account and write your profile yourself."
        )
    elif reason == "claimed":
        message = _("This profile has been claimed already. Log in to see it.")
    else:
        message = _("This link is not valid. Check that you copied it whole.")
    return render_template("error.html", status=400, message=message), 400


def _page(invitation: Invitation, state: str, status: int = 200, **context: Any) -> tuple[str, int]:
    page = render_template("claim.html", invitation=invitation, state=state, **context)
    return page, status


@bp.route("/claim/<token>", methods=["GET", "POST"])
@limiter.limit(REGISTER_LIMIT, methods=["POST"])  # it creates accounts, as registering does
def claim(token: str) -> ResponseReturnValue:
    try:
        with session_scope() as session:
            invitation = imports.read_invitation(session, token=token, links=links())
    except InvalidInput as error:
        return _refused(error)
    if invitation.account_id is not None:
        return _take(token, invitation)
    if current_user.is_authenticated:
        # Signed in with another address: creating an account here would sign them out
        # of theirs without a word.
        return _page(invitation, "other_account", 409 if request.method == "POST" else 200)
    return _create(token, invitation)


def _create(token: str, invitation: Invitation) -> ResponseReturnValue:
    form = ClaimForm()
    if request.method == "GET":
        form.display_name.data = invitation.name
        form.locale.data = str(get_locale() or "en")
    if not form.validate_on_submit():
        return _page(invitation, "create", 400 if form.errors else 200, form=form)
    try:
        with session_scope() as session:
            user = imports.claim_with_new_account(
                session,
                token=token,
                links=links(),
                password=form.password.data or "",
                display_name=form.display_name.data or "",
                locale=Locale(form.locale.data),
            )
            signed_in = SignedInUser.of(user)
    except Conflict:  # someone made an account with this address a moment ago
        return redirect(request.path)
    except InvalidInput as error:
        if "token" in error.errors:
            return _refused(error)
        show_errors(form, error, fallback="password")
        return _page(invitation, "create", 400, form=form)
    hand_over()
    login_user(signed_in)
    session_locale_reset()
    flash(_("Your account is ready and the profile is yours. One more step: agree to share it."))
    return redirect(url_for("profiles.consent"))


def _take(token: str, invitation: Invitation) -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return _page(invitation, "log_in", login_url=url_for("auth.login", next=request.path))
    if current_user.email != invitation.email:
        return _page(invitation, "other_account", 403 if request.method == "POST" else 200)
    form = TakeForm()
    if not form.validate_on_submit():
        return _page(invitation, "take", form=form)
    try:
        with session_scope() as session:
            user = acting_user(session)
            imports.claim_for_user(session, token=token, links=links(), user=user)
            signed_in = SignedInUser.of(user)
    except InvalidInput as error:
        return _refused(error)
    except PermissionDenied:
        return _page(invitation, "other_account", 403)
    except Conflict:
        message = _(
            "Your account has a profile already. Edit it, or ask the program officer to "
            "remove the imported one."
        )
        return render_template("error.html", status=409, message=message), 409
    hand_over()
    login_user(signed_in)  # the account is verified now: refresh what the session knows
    flash(_("The profile is yours. One more step: agree to share it."))
    return redirect(url_for("profiles.consent"))
