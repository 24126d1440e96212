"""Small helpers the views share: settings, signed links, the acting user, form errors."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_login import current_user
from sqlalchemy.orm import Session

from core.config import Settings
from core.errors import InvalidInput
from core.links import Links
from core.models import User
from workers.dispatch import after_commit


def settings() -> Settings:
    configured: Settings = current_app.config["GRANTMATCH"]
    return configured


def links() -> Links:
    configured = settings()
    return Links(base_url=configured.base_url, secret_key=configured.secret_key)


def acting_user(session: Session) -> User:
    """The signed-in user's row in this unit of work."""
    user = session.get(User, current_user.id)
    if user is None:  # deleted in another tab: treat as signed out
        from flask import abort

        abort(401)
    return user


def show_errors(form: Any, error: InvalidInput, *, fallback: str | None = None) -> None:
    """Put each service message next to its field (translated); unknown names go to
    ``fallback`` or the form's general errors."""
    from web import translate

    for name, message in error.errors.items():
        field = getattr(form, name, None) or (getattr(form, fallback) if fallback else None)
        if field is not None and hasattr(field, "errors"):
            if isinstance(field.errors, tuple):
                field.errors = list(field.errors)
            field.errors.append(translate(message))
        else:
            form.form_errors.append(translate(message))


def hand_over() -> None:
    """After the view's unit of work committed: run or enqueue what it queued."""
    after_commit(settings())
