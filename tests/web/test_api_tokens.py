"""Personal access tokens end to end: created on the account page (shown once, stored
hashed), used as bearer tokens, revoked; 401s, the browser session refused, rate limits."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import ApiToken, AuditEvent, utcnow
from core.services import tokens
from tests.conftest import login
from tests.web.test_api import FOUNDER, OFFICER, RESEARCHER, assert_problem, bearer, make_token

SECRET = re.compile(r"gm_[A-Za-z0-9_-]{40,}")
GRANTMATCH = str(Path(sys.executable).parent / "grantmatch")


def run(args: list[str], tmp_path: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`grantmatch ARGS` on a database of its own in ``tmp_path``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GRANTMATCH_")}
    environ["GRANTMATCH_INSTANCE_PATH"] = str(tmp_path)
    return subprocess.run(
        [GRANTMATCH, *args], input=stdin, env=environ, capture_output=True, text=True, timeout=120
    )


def _login_in_english(client: FlaskClient, email: str) -> None:
    login(client, email)
    client.get("/?lang=en")  # the demo researcher's account is in Japanese


def _create(client: FlaskClient, **fields: object) -> tuple[int, str]:
    data: dict[str, object] = {
        "token-name": "Nightly export",
        "token-scopes": ["read"],
        "token-expires": "90",
    }
    data.update({f"token-{k}": v for k, v in fields.items()})
    response = client.post("/account/tokens", data=data)
    return response.status_code, response.get_data(as_text=True)


def test_token_lifecycle_on_the_account_page(client: FlaskClient, session: Session) -> None:
    _login_in_english(client, RESEARCHER)
    page = client.get("/account/").get_data(as_text=True)
    assert "API tokens" in page and "You have no API tokens." in page
    assert 'value="officer"' not in page  # a registrant is not offered the officer scope

    status, page = _create(client, scopes=["read", "write"])
    assert status == 201, page
    found = SECRET.findall(page)
    assert len(set(found)) == 1
    secret = found[0]
    assert "only time it is shown" in page

    token = session.scalar(select(ApiToken).where(ApiToken.prefix == secret[:8]))
    assert token is not None
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.scopes == ["read", "write"]
    assert secret not in (token.name, token.token_hash, token.prefix)

    account = client.get("/account/").get_data(as_text=True)
    assert secret not in account  # shown once, never again
    assert secret[:8] in account and "Nightly export" in account

    me = client.get("/api/v1/me", headers=bearer(secret))
    assert me.status_code == 200
    assert me.get_json()["token"]["scopes"] == ["read", "write"]
    assert me.get_json()["email"] == RESEARCHER

    revoked = client.post(f"/account/tokens/{token.id}/revoke")
    assert revoked.status_code == 303
    assert "is revoked" in client.get("/account/").get_data(as_text=True)
    response = client.get("/api/v1/me", headers=bearer(secret))
    problem = assert_problem(response, 401)
    assert problem["detail"] == "The token was revoked."
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]

    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.subject_id == str(token.id))
    ).all()
    assert {"api_token.created", "api_token.revoked"} <= set(actions)


def test_token_form_refuses_bad_input(client: FlaskClient, session: Session) -> None:
    _login_in_english(client, RESEARCHER)
    status, page = _create(client, name="")
    assert status == 400 and not SECRET.search(page)
    status, page = _create(client, scopes=["officer"])
    assert status == 400 and not SECRET.search(page)
    status, page = _create(client, scopes=[])
    assert status == 400
    assert session.scalar(select(ApiToken)) is None


def test_officers_may_create_officer_tokens(client: FlaskClient) -> None:
    _login_in_english(client, OFFICER)
    assert 'value="officer"' in client.get("/account/").get_data(as_text=True)
    status, page = _create(client, scopes=["read", "officer"], expires="never")
    assert status == 201
    secret = SECRET.findall(page)[0]
    assert client.get("/api/v1/pairs?limit=1", headers=bearer(secret)).status_code == 200


def test_nobody_revokes_another_accounts_token(client: FlaskClient, session: Session) -> None:
    secret = make_token(session, FOUNDER)
    token = session.scalar(select(ApiToken).where(ApiToken.prefix == secret[:8]))
    assert token is not None
    _login_in_english(client, RESEARCHER)
    response = client.post(f"/account/tokens/{token.id}/revoke", follow_redirects=True)
    assert "There is no such token." in response.get_data(as_text=True)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200


def test_api_refuses_missing_malformed_unknown_and_expired_tokens(
    client: FlaskClient, session: Session
) -> None:
    missing = client.get("/api/v1/me")
    assert_problem(missing, 401)
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="grantmatch"'
    for header in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer gm_unknown", "Bearer \x7f\x00"):
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    user = tokens.account_for(session, email=RESEARCHER)
    expired = tokens.create_token(
        session,
        user=user,
        name="old",
        scopes=["read"],
        expires_in_days=30,
        now=utcnow() - timedelta(days=40),
    )
    problem = assert_problem(client.get("/api/v1/me", headers=bearer(expired.secret)), 401)
    assert problem["detail"] == "The token has expired."


def test_api_ignores_the_browser_session(client: FlaskClient) -> None:
    _login_in_english(client, RESEARCHER)
    assert client.get("/profile/").status_code == 200  # the cookie works for pages ...
    assert_problem(client.get("/api/v1/profile"), 401)  # ... never for the API
    assert_problem(client.put("/api/v1/profile", json={}), 401)


def test_token_use_is_noted_on_the_account_page(client: FlaskClient, session: Session) -> None:
    secret = make_token(session, RESEARCHER)
    token = session.scalar(select(ApiToken).where(ApiToken.prefix == secret[:8]))
    assert token is not None and token.last_used_at is None
    client.get("/api/v1/me", headers=bearer(secret))
    session.refresh(token)
    assert token.last_used_at is not None


def test_api_rate_limit_is_per_token(app: Flask, client: FlaskClient, session: Session) -> None:
    app.config["API_RATE_LIMIT"] = "3 per minute"
    first, second = make_token(session, RESEARCHER), make_token(session, RESEARCHER)
    for _ in range(3):
        assert client.get("/api/v1/me", headers=bearer(first)).status_code == 200
    response = client.get("/api/v1/me", headers=bearer(first))
    problem = assert_problem(response, 429)
    assert "Retry-After" in response.headers
    assert "Too many requests" in problem["detail"]
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200


def test_create_token_command_prints_a_working_secret_once(tmp_path: Path) -> None:
    assert run(["migrate"], tmp_path).returncode == 0
    created = run(
        ["create-user", "--email", "ops@agency.example", "--role", "officer"],
        tmp_path,
        stdin="a long enough password\n",
    )
    assert created.returncode == 0, created.stderr
    result = run(
        ["create-token", "--email", "OPS@agency.example", "--scopes", "read,officer"], tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert SECRET.fullmatch(result.stdout.strip())
    refused = run(["create-token", "--email", "nobody@agency.example"], tmp_path)
    assert refused.returncode == 1 and "nobody@agency.example" in refused.stderr
    bad_scope = run(["create-token", "--email", "ops@agency.example", "--scopes", "root"], tmp_path)
    assert bad_scope.returncode == 1 and "scopes" in bad_scope.stderr
