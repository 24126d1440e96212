"""Program officers' console: calls."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("calls", __name__, url_prefix="/officer/calls")
