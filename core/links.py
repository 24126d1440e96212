"""Signed links the service sends by email, and reading them back.

Tokens are signed with the secret key (itsdangerous) and carry what they need, so no
table of tokens is kept: a verification link names the address it verifies, a reset
link a fingerprint of the password it replaces (so it works once), an unsubscribe link
only the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from core.errors import InvalidInput

VERIFY_EMAIL: Final = "verify-email"
RESET_PASSWORD: Final = "reset-password"
UNSUBSCRIBE: Final = "unsubscribe"
CLAIM_PROFILE: Final = "claim-profile"
SET_PASSWORD: Final = "set-password"

# How long each kind of link stays valid, in seconds (None: until the secret changes).
MAX_AGE: Final[dict[str, int | None]] = {
    VERIFY_EMAIL: 3 * 24 * 3600,
    RESET_PASSWORD: 3600,
    UNSUBSCRIBE: None,
    CLAIM_PROFILE: 30 * 24 * 3600,
    SET_PASSWORD: 3 * 24 * 3600,
}

# The web routes the links point to (tests/web check that each exists).
PATHS: Final[dict[str, str]] = {
    VERIFY_EMAIL: "/verify/",
    RESET_PASSWORD: "/reset/",
    UNSUBSCRIBE: "/unsubscribe/",
    CLAIM_PROFILE: "/claim/",
    SET_PASSWORD: "/reset/",
}
MATCHES_PATH: Final = "/matches/"
ACCOUNT_PATH: Final = "/account/"


class LinkExpired(InvalidInput):
    """The link is genuine but too old."""


@dataclass(frozen=True)
class Links:
    """Builds and reads the service's signed links for one deployment."""

    base_url: str
    secret_key: str

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret_key, salt=f"grantmatch-{purpose}")

    def token(self, purpose: str, payload: dict[str, Any]) -> str:
        return str(self._serializer(purpose).dumps(payload))

    def url(self, purpose: str, payload: dict[str, Any]) -> str:
        return f"{self.base_url}{PATHS[purpose]}{self.token(purpose, payload)}"

    def page(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def read(self, purpose: str, token: str) -> dict[str, Any]:
        """The payload of a genuine, unexpired token; InvalidInput (LinkExpired) otherwise."""
        try:
            payload = self._serializer(purpose).loads(token, max_age=MAX_AGE[purpose])
        except SignatureExpired:
            raise LinkExpired("this link has expired", {"token": "expired"}) from None
        except BadSignature:
            raise InvalidInput("this link is not valid", {"token": "invalid"}) from None
        if not isinstance(payload, dict):
            raise InvalidInput("this link is not valid", {"token": "invalid"})
        return payload
