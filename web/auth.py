"""Logging in and out."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from core.db import session_scope
from core.models import Role, User
from core.services import accounts

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see this page.")

F = TypeVar("F")


@dataclass(frozen=True)
class SignedInUser(UserMixin):  # type: ignore[misc]
    """What a request knows about its user: a detached snapshot, never an ORM row."""

    id: int
    email: str
    role: str
    locale: str
    display_name: str

    @classmethod
    def of(cls, user: User) -> SignedInUser:
        return cls(user.id, user.email, user.role.value, user.locale.value, user.display_name)

    @property
    def is_officer(self) -> bool:
        return self.role in (Role.OFFICER.value, Role.ADMIN.value)


@login_manager.user_loader
def load_user(user_id: str) -> SignedInUser | None:
    with session_scope() as session:
        user = session.get(User, int(user_id)) if user_id.isdigit() else None
        return SignedInUser.of(user) if user else None


def officer_required(view: F) -> F:
    """Let only officers and admins through (403 for others, login for anonymous)."""

    @wraps(view)  # type: ignore[arg-type]
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_officer:
            abort(403)
        return view(*args, **kwargs)  # type: ignore[operator]

    return cast(F, wrapped)


class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str | None:
    # Only same-site relative paths: never an open redirect.
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        with session_scope() as session:
            user = accounts.authenticate(
                session, email=form.email.data or "", password=form.password.data or ""
            )
            signed_in = SignedInUser.of(user) if user else None
        if signed_in is None:
            flash(_("Email or password is not correct."), "error")
            return render_template("login.html", form=form), 401
        login_user(signed_in)
        fallback = url_for("officer.dashboard") if signed_in.is_officer else url_for("matches.mine")
        return redirect(_safe_next(request.args.get("next")) or fallback)
    status = 400 if form.errors else 200
    return render_template("login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("pages.home"))
