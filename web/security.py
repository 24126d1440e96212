"""What every response carries and what slows down a hostile client: security headers
(a Content-Security-Policy without 'unsafe-inline'), and rate limits on the doors people
knock on (login, registration, password reset).

Limits are counted per client address in memory on the embedded default and in Redis
when a broker is configured (several web processes must share the counts).
"""

from __future__ import annotations

from flask import Flask, Response
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from core.config import Settings

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)

LOGIN_LIMIT = "10 per minute;50 per hour"
REGISTER_LIMIT = "5 per minute;30 per hour"
RESET_LIMIT = "5 per minute;20 per hour"


def install(app: Flask, settings: Settings) -> None:
    """Add the headers to every response and start the rate limiter."""
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI", settings.broker_url if settings.uses_broker else "memory://"
    )
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    limiter.init_app(app)

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if settings.is_production:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
