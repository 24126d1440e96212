"""Flask adapter: the app factory. Views validate, open one unit of work and call services."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, render_template, request, session
from flask_babel import Babel, format_date, format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect

import workers
from core import i18n
from core.config import Settings
from core.errors import Message, MessageList, NotFound, PermissionDenied
from core.services import accounts
from core.services.consent import NOTICE_VERSION
from web import security, templating
from web.auth import login_manager

LOCALES = ("en", "ja", "fr")
MAX_REQUEST_BYTES = 2 * 1024 * 1024

csrf = CSRFProtect()
babel = Babel()


def select_locale() -> str:
    """The ?lang= choice of this browser session, else the account's, else Accept-Language."""
    chosen = session.get("locale")
    if chosen in LOCALES:
        return str(chosen)
    if current_user.is_authenticated:
        return str(current_user.locale)
    return request.accept_languages.best_match(LOCALES) or "en"


def translate(message: str) -> str:
    """A message from the services in the reader's language (see core.errors.Message);
    placeholders that are messages themselves are translated too."""
    if isinstance(message, MessageList):
        return ", ".join(translate(item) for item in message.items)
    if isinstance(message, Message):
        params = {
            name: translate(value) if isinstance(value, Message | MessageList) else value
            for name, value in message.params.items()
        }
        return str(_(message.msgid, **params))
    return str(_(message))


def create_app(settings: Settings | None = None) -> Flask:
    """Build the web app for ``settings`` (read from the environment when not given)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        GRANTMATCH=settings,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.is_production,
        BABEL_TRANSLATION_DIRECTORIES=str(i18n.TRANSLATIONS_DIR),
    )
    workers.configure(settings)
    if settings.uses_broker:
        workers.create_celery(settings)

    csrf.init_app(app)
    security.install(app, settings)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    templating.install(app)
    app.jinja_env.globals.update(
        format_datetime=format_datetime,
        format_date=format_date,
        tr=translate,
        password_rules=accounts.PASSWORD_RULES,
        notice_version=NOTICE_VERSION,
    )

    @app.context_processor
    def mailbox_link() -> dict[str, Any]:
        from web.mailbox import is_available

        return {"mailbox_available": is_available()}

    from web import (
        account,
        admin,
        api,
        auth,
        claim,
        mailbox,
        matches,
        officer,
        officer_calls,
        officer_import,
        officer_insights,
        officer_review,
        pages,
        profiles,
        tokens,
    )

    blueprints = (
        pages.bp,
        auth.bp,
        claim.bp,
        account.bp,
        profiles.bp,
        matches.bp,
        officer.bp,
        officer_review.bp,
        officer_calls.bp,
        officer_import.bp,
        officer_insights.bp,
        admin.bp,
        mailbox.bp,
        tokens.bp,
        api.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    # Mail clients' one-click unsubscribe (RFC 8058) posts without a CSRF token; the
    # signed link is the proof instead.
    csrf.exempt(account.unsubscribe)
    # The API takes only bearer tokens, never the session cookie: no CSRF to guard against.
    csrf.exempt(api.bp)
    _register_error_pages(app)

    @app.before_request
    def remember_language_choice() -> None:
        chosen = request.args.get("lang")
        if chosen in LOCALES:
            session["locale"] = chosen
        g.settings = settings

    return app


def _register_error_pages(app: Flask) -> None:
    def render_error(status: int, message: str) -> tuple[str, int]:
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(NotFound)
    def not_found(error: NotFound) -> tuple[str, int]:
        return render_error(404, str(error))

    @app.errorhandler(PermissionDenied)
    def forbidden(error: PermissionDenied) -> tuple[str, int]:
        return render_error(403, str(error))

    for status in (400, 403, 404, 405, 413, 429, 500):

        def handler(error: Any, status: int = status) -> tuple[str, int]:
            description = getattr(error, "description", "") or ""
            return render_error(status, str(description))

        app.register_error_handler(status, handler)
