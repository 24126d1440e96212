"""Accounts in the browser: log in and out, register, verify the address, reset the password."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from core.db import session_scope
from core.errors import Conflict, InvalidInput
from core.models import Locale, Role, User, utcnow
from core.services import accounts
from web.security import LOGIN_LIMIT, REGISTER_LIMIT, RESET_LIMIT, limiter
from web.support import acting_user, hand_over, links, show_errors

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)
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
    verified: bool = False

    @classmethod
    def of(cls, user: User) -> SignedInUser:
        return cls(
            user.id,
            user.email,
            user.role.value,
            user.locale.value,
            user.display_name,
            user.email_verified_at is not None,
        )

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


def admin_required(view: F) -> F:
    """Let only admins through (403 for others, login for anonymous)."""

    @wraps(view)  # type: ignore[arg-type]
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.role != Role.ADMIN.value:
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
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        with session_scope() as session:
            wait = accounts.login_wait(session, email=form.email.data or "", now=utcnow())
        if wait:
            log.warning("login attempts on one account slowed down (%s s)", wait)
            flash(
                _(
                    "Too many failed attempts for this account. Try again in %(seconds)s "
                    "seconds, or reset your password.",
                    seconds=wait,
                ),
                "error",
            )
            return render_template("login.html", form=form), 429
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


LANGUAGE_CHOICES = [("en", "English"), ("ja", "日本語"), ("fr", "Français")]


class RegisterForm(FlaskForm):  # type: ignore[misc]
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=accounts.MAX_PASSWORD_LENGTH)]
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    locale = SelectField(_l("Language for emails and pages"), choices=LANGUAGE_CHOICES)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(REGISTER_LIMIT, methods=["POST"])
def register() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    form = RegisterForm()
    if request.method == "GET":
        form.locale.data = str(get_locale() or "en")
    if not form.validate_on_submit():
        return render_template("register.html", form=form), 400 if form.errors else 200
    try:
        with session_scope() as session:
            user = accounts.register(
                session,
                email=form.email.data or "",
                password=form.password.data or "",
                display_name=form.display_name.data or "",
                locale=Locale(form.locale.data),
                links=links(),
            )
            signed_in = SignedInUser.of(user)
    except InvalidInput as error:
        show_errors(form, error)
        return render_template("register.html", form=form), 400
    except Conflict:
        form.email.errors.append(
            _("An account already uses this address. Log in, or reset your password.")
        )
        return render_template("register.html", form=form), 409
    hand_over()
    login_user(signed_in)
    session_locale_reset()
    return redirect(url_for("auth.verify_pending"))


def session_locale_reset() -> None:
    # The account's language now decides; forget a ?lang= choice made before registering.
    from flask import session as browser_session

    browser_session.pop("locale", None)


@bp.route("/verify")
@login_required
def verify_pending() -> ResponseReturnValue:
    if current_user.verified:
        return redirect(url_for("profiles.mine"))
    return render_template("verify_pending.html")


@bp.route("/verify/resend", methods=["POST"])
@login_required
def resend_verification() -> ResponseReturnValue:
    with session_scope() as session:
        user = acting_user(session)
        if user.email_verified_at is None:
            accounts.queue_verification(session, user, links())
    hand_over()
    flash(_("We sent the link again. It works for 3 days."))
    return redirect(url_for("auth.verify_pending"))


@bp.route("/verify/<token>")
def verify_email(token: str) -> ResponseReturnValue:
    try:
        with session_scope() as session:
            user = accounts.verify_email(session, token=token, links=links())
            signed_in = SignedInUser.of(user)
    except InvalidInput as error:
        expired = error.errors.get("token") == "expired"
        message = (
            _("This link has expired. Log in and ask for a new one.")
            if expired
            else _("This link is not valid. Check that you copied it whole.")
        )
        return render_template("error.html", status=400, message=message), 400
    except Conflict:
        message = _("Another account uses this address now.")
        return render_template("error.html", status=409, message=message), 409
    if current_user.is_authenticated and current_user.id == signed_in.id:
        login_user(signed_in)  # refresh what the session knows
    flash(_("Your email address is confirmed."))
    if current_user.is_authenticated:
        return redirect(url_for("profiles.mine"))
    return redirect(url_for("auth.login"))


class ForgotForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(RESET_LIMIT, methods=["POST"])
def forgot_password() -> ResponseReturnValue:
    form = ForgotForm()
    if not form.validate_on_submit():
        return render_template("forgot.html", form=form), 400 if form.errors else 200
    with session_scope() as session:
        accounts.request_password_reset(session, email=form.email.data or "", links=links())
    hand_over()
    # The same answer whether or not an account exists: addresses cannot be probed.
    flash(_("If an account uses this address, we sent it a link to choose a new password."))
    return redirect(url_for("auth.login"))


class ResetForm(FlaskForm):  # type: ignore[misc]
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=accounts.MAX_PASSWORD_LENGTH)]
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(RESET_LIMIT, methods=["POST"])
def reset_password(token: str) -> ResponseReturnValue:
    form = ResetForm()
    try:
        with session_scope() as session:
            accounts.user_for_reset(session, token=token, links=links())
    except InvalidInput:
        message = _("This link is not valid any more. Ask for a new one.")
        return render_template("error.html", status=400, message=message), 400
    if not form.validate_on_submit():
        return render_template("reset.html", form=form), 400 if form.errors else 200
    try:
        with session_scope() as session:
            accounts.reset_password(
                session, token=token, new_password=form.new_password.data or "", links=links()
            )
    except InvalidInput as error:
        show_errors(form, error)
        return render_template("reset.html", form=form), 400
    logout_user()
    flash(_("Your password is changed. Log in with the new one."))
    return redirect(url_for("auth.login"))
