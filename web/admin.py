"""Administration: accounts and roles (admins only). Officers are created here or with
`grantmatch create-user --role officer`."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, Length

from core.db import session_scope
from core.errors import Conflict, InvalidInput, NotFound
from core.models import Role
from core.services import accounts
from web.auth import admin_required
from web.support import acting_user, hand_over, links, show_errors

bp = Blueprint("admin", __name__, url_prefix="/admin")

ROLES = [
    ("registrant", _l("Registrant")),
    ("officer", _l("Program officer")),
    ("admin", _l("Administrator")),
]


class RoleForm(FlaskForm):  # type: ignore[misc]
    role = SelectField(_l("Role"), choices=ROLES, validators=[AnyOf([r for r, _ in ROLES])])


class StaffForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=ROLES[1:], validators=[AnyOf([r for r, _ in ROLES[1:]])])


def _page(form: StaffForm, status: int = 200) -> ResponseReturnValue:
    search = request.args.get("q", "")[:100]
    with session_scope() as session:
        users = accounts.list_users(session, search=search)
        return render_template(
            "admin/users.html", users=users, search=search, form=form, roles=ROLES
        ), status


@bp.route("/users")
@admin_required
def users() -> ResponseReturnValue:
    return _page(StaffForm())


@bp.route("/users/new", methods=["POST"])
@admin_required
def create_staff() -> ResponseReturnValue:
    form = StaffForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        with session_scope() as session:
            accounts.create_staff_account(
                session,
                actor=acting_user(session),
                email=form.email.data or "",
                display_name=form.display_name.data or "",
                role=Role(form.role.data),
                links=links(),
            )
    except InvalidInput as error:
        show_errors(form, error)
        return _page(form, 400)
    except Conflict:
        form.email.errors.append(_("An account already uses this address."))
        return _page(form, 409)
    hand_over()
    flash(_("Account created. The person received a link to choose their password."))
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@admin_required
def change_role(user_id: int) -> ResponseReturnValue:
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with session_scope() as session:
            accounts.set_role(
                session, actor=acting_user(session), user_id=user_id, role=Role(form.role.data)
            )
    except NotFound:
        abort(404)
    except InvalidInput:
        flash(_("You cannot change your own role."), "error")
        return redirect(url_for("admin.users"))
    flash(_("Role changed."))
    return redirect(url_for("admin.users"))
