"""Bearer-token authentication for the API, scopes and the per-token rate limit.

Only ``Authorization: Bearer gm_...`` authenticates: the browser session cookie is never
read, so no page can make a visitor's browser call the API on their behalf (which is why
the API needs no CSRF token). The token is checked in its own short unit of work (which
notes its last use) before the view opens its own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, request
from flask_limiter.util import get_remote_address
from sqlalchemy.orm import Session

from core.db import session_scope
from core.errors import Message
from core.models import User
from core.services import tokens
from core.services.tokens import OFFICER
from web.api.problems import ApiError, bearer_challenge, localized
from web.auth import SignedInUser

DEFAULT_RATE_LIMIT = "120 per minute"


@dataclass(frozen=True)
class Caller:
    """Who calls: the token's owner (a detached snapshot) and the token's scopes."""

    user: SignedInUser
    scopes: frozenset[str]
    token_id: int
    token_name: str
    token_prefix: str
    expires_at: datetime | None

    @property
    def is_officer(self) -> bool:
        """Acts as an officer: an officer's token with the officer scope."""
        return OFFICER in self.scopes and self.user.is_officer

    def row(self, session: Session) -> User:
        """The caller's user row in ``session``; 401 if the account is gone."""
        user = session.get(User, self.user.id)
        if user is None:
            raise unauthenticated("The token's account no longer exists.")
        return user


def unauthenticated(detail: str, *, error: str | None = "invalid_token") -> ApiError:
    """A 401 problem with the Bearer challenge."""
    return ApiError(
        401,
        detail,
        kind="unauthenticated",
        headers={"WWW-Authenticate": bearer_challenge(error, detail if error else "")},
    )


def presented_secret() -> str | None:
    """The bearer token of this request, if it sent one."""
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def authenticate(required: tuple[str, ...]) -> Caller:
    """The caller of this request, holding every scope in ``required``.

    401 without a valid token; 403 when a scope is missing.
    """
    secret = presented_secret()
    if secret is None:
        raise unauthenticated(
            "Send a personal access token: Authorization: Bearer <token>.", error=None
        )
    with session_scope() as session:
        token, user = tokens.authenticate(session, secret=secret)
        caller = Caller(
            user=SignedInUser.of(user),
            scopes=tokens.effective_scopes(token, user),
            token_id=token.id,
            token_name=token.name,
            token_prefix=token.prefix,
            expires_at=token.expires_at,
        )
    missing = [scope for scope in required if scope not in caller.scopes]
    if missing:
        detail = localized(
            Message("This needs a token with the scopes: %(scopes)s.", scopes=", ".join(required))
        )
        raise ApiError(
            403,
            detail,
            kind="insufficient-scope",
            headers={
                "WWW-Authenticate": bearer_challenge("insufficient_scope", scope=" ".join(required))
            },
        )
    return caller


def rate_limit() -> str:
    """The API's rate limit per token (``API_RATE_LIMIT`` in the app config)."""
    return str(current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT))


def rate_limit_key() -> str:
    """Count per token (by a digest of the presented secret, so that one client's garbage
    cannot eat another's allowance), else per client address."""
    secret = presented_secret()
    if secret is not None:
        return "api-token:" + hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()[:32]
    return "api-address:" + get_remote_address()
