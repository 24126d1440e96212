"""Personal access tokens for the API, on the account page: create (the secret is shown
once, on the answer to the form, and never again) and revoke.

The account page lists the tokens through :func:`token_section`, which this blueprint
makes available to every template; the secret of a new token is rendered straight into
the answer to the POST (never put in the session or a flash message, which a cookie
carries) with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from core.db import session_scope
from core.errors import InvalidInput, NotFound
from core.models import utcnow
from core.services import tokens
from web.support import acting_user, show_errors

bp = Blueprint("tokens", __name__)

SCOPE_CHOICES = {
    tokens.READ: _l("read: see your profile and matches (officers: the queue, calls, runs)"),
    tokens.WRITE: _l("write: change your profile, answer proposals (officers: decide, rematch)"),
    tokens.OFFICER: _l("officer: act as a program officer"),
}
EXPIRY_CHOICES = [
    ("90", _l("In 90 days")),
    ("30", _l("In 30 days")),
    ("365", _l("In a year")),
    ("never", _l("Never")),
]


class ScopesField(SelectMultipleField):  # type: ignore[misc]
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TokenForm(FlaskForm):  # type: ignore[misc]
    name = StringField(
        _l("Token name"), validators=[DataRequired(), Length(max=tokens.MAX_NAME_LENGTH)]
    )
    scopes = ScopesField(_l("Scopes"), validators=[DataRequired()])
    expires = SelectField(_l("Expires"), choices=EXPIRY_CHOICES)


class RevokeForm(FlaskForm):  # type: ignore[misc]
    pass


def _token_form() -> TokenForm:
    form = TokenForm(prefix="token")
    allowed = tokens.SCOPES if current_user.is_officer else (tokens.READ, tokens.WRITE)
    form.scopes.choices = [(scope, SCOPE_CHOICES[scope]) for scope in allowed]
    return form


@dataclass(frozen=True)
class TokenRow:
    """What the account page shows of a token (never its secret, which is not kept)."""

    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool


def token_section() -> dict[str, Any]:
    """The signed-in user's tokens and the forms to create and revoke them."""
    now = utcnow()
    with session_scope() as session:
        rows = [
            TokenRow(
                id=token.id,
                name=token.name,
                prefix=token.prefix,
                scopes=list(token.scopes),
                created_at=token.created_at,
                last_used_at=token.last_used_at,
                expires_at=token.expires_at,
                revoked_at=token.revoked_at,
                active=tokens.is_active(token, now),
            )
            for token in tokens.list_tokens(session, user=acting_user(session))
        ]
    return {"tokens": rows, "form": _token_form(), "revoke_form": RevokeForm()}


@bp.app_context_processor
def account_tokens() -> dict[str, Any]:
    return {"api_token_section": token_section}


@bp.route("/account/tokens", methods=["POST"])
@login_required
def create() -> ResponseReturnValue:
    form = _token_form()
    if not form.validate_on_submit():
        return render_template("api/token_form.html", form=form), 400
    expires = None if form.expires.data == "never" else int(form.expires.data)
    try:
        with session_scope() as session:
            new = tokens.create_token(
                session,
                user=acting_user(session),
                name=form.name.data or "",
                scopes=list(form.scopes.data or []),
                expires_in_days=expires,
            )
            shown = {
                "name": new.token.name,
                "scopes": list(new.token.scopes),
                "expires_at": new.token.expires_at,
                "secret": new.secret,
            }
    except InvalidInput as error:
        show_errors(form, error, fallback="name")
        return render_template("api/token_form.html", form=form), 400
    page = render_template("api/token_created.html", token=shown)
    return page, 201, {"Cache-Control": "no-store"}


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int) -> ResponseReturnValue:
    if not RevokeForm().validate_on_submit():
        return redirect(url_for("account.settings_page") + "#tokens-heading")
    try:
        with session_scope() as session:
            token = tokens.revoke_token(session, user=acting_user(session), token_id=token_id)
            name = token.name
    except NotFound:
        flash(_("There is no such token."), "error")
        return redirect(url_for("account.settings_page") + "#tokens-heading"), 303
    flash(_("Token “%(name)s” is revoked: it no longer works.", name=name))
    return redirect(url_for("account.settings_page") + "#tokens-heading"), 303
