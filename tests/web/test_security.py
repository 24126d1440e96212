"""Headers on every response, cookies, rate limits and slowed-down password guessing."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import AuditEvent
from core.services import demo
from tests.conftest import login

RESEARCHER = demo.DEMO_ACCOUNTS[0].email


def test_every_page_carries_the_security_headers(client: FlaskClient) -> None:
    for url in ("/", "/login", "/register", "/does-not-exist", "/static/style.css"):
        headers = client.get(url).headers
        policy = headers["Content-Security-Policy"]
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_the_session_cookie_is_http_only_and_same_site(client: FlaskClient) -> None:
    login(client, RESEARCHER)
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_failed_logins_on_one_account_slow_down_and_are_logged(
    client: FlaskClient, session: Session
) -> None:
    for _ in range(5):
        response = client.post("/login", data={"email": RESEARCHER, "password": "guess-guess"})
        assert response.status_code == 401
    slowed = client.post("/login", data={"email": RESEARCHER, "password": "guess-again"})
    assert slowed.status_code == 429
    assert "Too many failed attempts" in slowed.get_data(as_text=True)
    # Even the right password waits: a guesser cannot tell which attempt was right.
    right = client.post("/login", data={"email": RESEARCHER, "password": demo.DEMO_PASSWORD})
    assert right.status_code == 429
    failures = (
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "login.failed")
    )
    assert (session.scalar(failures) or 0) >= 5


def test_login_attempts_from_one_address_are_rate_limited(app: Flask) -> None:
    client = app.test_client()
    statuses = [
        client.post(
            "/login", data={"email": f"nobody{i}@tests.example", "password": "whatever-123"}
        ).status_code
        for i in range(12)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]


def test_oversized_requests_are_refused(client: FlaskClient) -> None:
    response = client.post("/login", data={"email": "x@tests.example", "password": "p" * 3_000_000})
    assert response.status_code == 413
