"""The landing page and the health check."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import text

from core.db import session_scope
from core.services import fields as field_service

bp = Blueprint("pages", __name__)


@bp.route("/")
def home() -> ResponseReturnValue:
    if current_user.is_authenticated:
        target = "officer.dashboard" if current_user.is_officer else "matches.mine"
        return redirect(url_for(target))
    with session_scope() as session:
        fields = field_service.list_fields(session)
    return render_template("home.html", fields=fields)


@bp.route("/healthz")
def health() -> ResponseReturnValue:
    """Liveness and database reachability, for load balancers and compose health checks."""
    with session_scope() as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok"}
