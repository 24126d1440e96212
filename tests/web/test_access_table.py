"""Every route of the app, tried by every kind of visitor with every method it accepts:
nobody reaches what is not theirs, and nothing answers with a server error."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter

from core.models import Role
from core.services import demo
from tests.conftest import login
from tests.factories import make_user

RESEARCHER, FOUNDER, OFFICER = (a.email for a in demo.DEMO_ACCOUNTS)
ADMIN_EMAIL, ADMIN_PASSWORD = "access-admin@tests.example", "harbour-kite-2026"
PUBLIC = ("/login", "/logout", "/register", "/reset", "/verify/", "/claim/", "/unsubscribe/")
SIGNED_IN = ("/account", "/profile", "/matches", "/verify")
API_REFERENCE = ("/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/")


def routes(app: Flask) -> list[tuple[str, str, str]]:
    """(area, method, url) of every route, ids filled with 1 and other values with x."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/static") or rule.rule in ("/", "/healthz"):
            continue
        converters = rule._converters
        values = {
            name: 1 if isinstance(converters.get(name), IntegerConverter) else "x"
            for name in rule.arguments
        }
        built = rule.build(values, append_unknown=False)
        assert built is not None
        url = built[1]
        if rule.rule in API_REFERENCE:
            area = "public"
        elif rule.rule.startswith("/api"):
            area = "api"
        elif rule.rule.startswith("/admin"):
            area = "admin"
        elif rule.rule.startswith("/officer"):
            area = "officer"
        elif rule.rule.startswith("/outbox"):
            area = "local"
        elif rule.rule.startswith(PUBLIC) and not rule.rule.startswith("/verify/resend"):
            area = "public"
        elif rule.rule.startswith(SIGNED_IN):
            area = "signed-in"
        else:
            area = "unclassified"
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((area, method, url))
    return found


def test_every_route_is_classified(app: Flask) -> None:
    unclassified = [r for r in routes(app) if r[0] == "unclassified"]
    assert unclassified == [], "decide who may reach these routes and add them to the table"


ALLOWED = {
    "anonymous": {"public", "local"},
    "registrant": {"public", "local", "signed-in"},
    "officer": {"public", "local", "signed-in", "officer"},
    "admin": {"public", "local", "signed-in", "officer", "admin"},
}


@pytest.mark.parametrize("who", ["anonymous", "registrant", "other registrant", "officer", "admin"])
def test_nobody_reaches_what_is_not_theirs(app: Flask, session: Session, who: str) -> None:
    make_user(session, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, role=Role.ADMIN, verified=True)
    client: FlaskClient = app.test_client()
    role = {"other registrant": "registrant"}.get(who, who)
    if who == "registrant":
        login(client, RESEARCHER)
    elif who == "other registrant":
        login(client, FOUNDER)
    elif who == "officer":
        login(client, OFFICER)
    elif who == "admin":
        login(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    for area, method, url in routes(app):
        if url == "/logout":
            continue  # would end this visitor's session for the rest of the table
        response = client.open(url, method=method)
        status = response.status_code
        assert status < 500, (who, method, url, status)
        if area == "api":
            # Cookies never authenticate the API: a token is needed, whoever asks.
            assert status == 401, (who, method, url, status)
        elif area in ALLOWED[role]:
            login_redirect = status == 302 and "/login" in response.headers.get("Location", "")
            assert status != 403 and not login_redirect, (who, method, url, status)
        elif role == "anonymous":
            assert status == 302 and "/login" in response.headers["Location"], (who, method, url)
        else:
            assert status == 403, (who, method, url, status)
