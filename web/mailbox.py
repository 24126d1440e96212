"""The local outbox: on the embedded default, outgoing mail is written to the instance's
mail folder and shown here, so someone trying the demo can open the links it contains.

Only outside production, only without SMTP, and only to requests from this machine.
"""

from __future__ import annotations

import re
from ipaddress import ip_address

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape

from core.mail import read_folder, read_message
from web.support import settings

bp = Blueprint("mailbox", __name__, url_prefix="/outbox")
_LINK = re.compile(r"https?://[^\s<>\"']+")
_NAME = re.compile(r"^\d{8}$")


def is_available() -> bool:
    """True when this request may see the local outbox."""
    configured = settings()
    if configured.is_production or configured.smtp_url:
        return False
    try:
        return ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.before_request
def local_only() -> None:
    if not is_available():
        abort(404)


def linkify(body: str) -> Markup:
    """The message text, escaped, with its addresses made clickable."""
    escaped = str(escape(body))
    return Markup(_LINK.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped))


@bp.route("/")
def messages() -> ResponseReturnValue:
    return render_template("outbox.html", messages=read_folder(settings().mail_path))


@bp.route("/<name>")
def message(name: str) -> ResponseReturnValue:
    path = settings().mail_path / f"{name}.eml"
    if not _NAME.match(name) or not path.is_file():
        abort(404)
    stored = read_message(path)
    return render_template("outbox_message.html", message=stored, body=linkify(stored.body))
