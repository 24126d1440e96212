"""Every API error as RFC 9457 problem details (``application/problem+json``).

``type`` is ``about:blank`` when the HTTP status says it all (RFC 9457 §4.2.1), else a
link to the problem's section of the reference page, so that a client can branch on it
and a person can read about it. Validation problems add ``errors``: one entry per bad
field with a message meant for people.

Handlers are installed on the API blueprint for each status code (Flask looks up handlers
by code before class, so a code handler of the app would otherwise win) and for domain
errors; a hook on the app turns routing failures under ``/api/`` (unknown URL, wrong
method), which no blueprint sees, into problems too. Never HTML under ``/api/``.
"""

from __future__ import annotations

import http
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, Response, request
from flask.sansio.app import App
from flask.sansio.blueprints import BlueprintSetupState
from flask_babel import force_locale
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import RequestRedirect

from core.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from core.services.tokens import InvalidToken

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
API_PREFIX = "/api/"
LOCALES = ("en", "ja", "fr")
DOCS = "/api/v1/docs"
# Problem types beyond the plain HTTP statuses: name -> (title, explanation).
PROBLEM_TYPES: dict[str, tuple[str, str]] = {
    "invalid-request": (
        "Invalid request",
        "A parameter or a field of the body is missing or wrong: `errors` lists each one "
        "with a message.",
    ),
    "malformed-body": (
        "Malformed body",
        "The body is not valid UTF-8 JSON (NaN and Infinity are not JSON either).",
    ),
    "unauthenticated": (
        "Authentication needed",
        "Send a personal access token as `Authorization: Bearer gm_...`; create one on "
        "your account page. Tokens that are unknown, revoked or expired are refused.",
    ),
    "insufficient-scope": (
        "Insufficient scope",
        "The token lacks a scope this operation needs (read, write or officer), or its "
        "owner may not do this.",
    ),
    "forbidden": (
        "Not allowed",
        "The caller may not do this, such as deciding on a pair after declaring a conflict "
        "of interest with one of its organizations.",
    ),
    "conflict": (
        "Conflict",
        "The request conflicts with the current state, such as a full rematch already in "
        "progress or a profile without consent.",
    ),
    "cursor-expired": (
        "Cursor expired",
        "The live matching run changed since the cursor was issued: list again from the "
        "first page.",
    ),
}


def problem_type(name: str) -> str:
    """The ``type`` URI of a named problem (a section of the reference page)."""
    return f"{DOCS}#problem-{name}"


class ApiError(Exception):
    """An error the API answers with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        errors: Sequence[Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.errors = list(errors) if errors is not None else None
        self.headers = dict(headers or {})


def request_locale() -> str:
    """The language of messages: the best of Accept-Language, English by default (the API
    never reads the browser session or the account, so its answers depend on the request
    alone)."""
    return request.accept_languages.best_match(LOCALES) or "en"


def localized(message: str) -> str:
    """A service message (see core.errors.Message) in the request's language."""
    from web import translate

    with force_locale(request_locale()):
        return translate(message)


def problem_response(error: ApiError) -> Response:
    """The problem document for ``error``."""
    title = (
        PROBLEM_TYPES[error.kind][0]
        if error.kind in PROBLEM_TYPES
        else http.HTTPStatus(error.status).phrase
    )
    body: dict[str, Any] = {
        "type": problem_type(error.kind) if error.kind else "about:blank",
        "title": title,
        "status": error.status,
        "detail": error.detail,
    }
    if error.errors is not None:
        body["errors"] = error.errors
    response = Response(
        json.dumps(body, ensure_ascii=False), status=error.status, mimetype=PROBLEM_JSON
    )
    response.headers.update(error.headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def _from_http(error: HTTPException) -> ApiError:
    status = error.code or 500
    detail = error.description or http.HTTPStatus(status).phrase
    headers = {k: v for k, v in error.get_headers() if k.lower() not in ("content-type",)}
    if status == 429:
        detail = f"Too many requests ({error.description}). Wait for the time in Retry-After."
    if status == 405 and isinstance(error, MethodNotAllowed) and error.valid_methods:
        detail = f"Use one of: {', '.join(sorted(error.valid_methods))}."
    if status == 413:
        detail = "The body is too large."
    return ApiError(status, str(detail), headers=headers)


def invalid_request(errors: Sequence[Mapping[str, str]]) -> ApiError:
    """A 422 listing each bad field or parameter with its message."""
    detail = (
        f"{errors[0]['field']}: {errors[0]['message']}"
        if len(errors) == 1
        else f"{len(errors)} fields are not valid; see errors."
    )
    return ApiError(422, detail, kind="invalid-request", errors=errors)


def _errors_of(error: InvalidInput) -> list[dict[str, str]]:
    return [
        {"field": name, "message": localized(message)} for name, message in error.errors.items()
    ]


def domain_error(error: DomainError) -> ApiError:
    """The API's answer to a domain error a service raised."""
    if isinstance(error, InvalidToken):
        return ApiError(
            401,
            localized(str(error)),
            kind="unauthenticated",
            headers={"WWW-Authenticate": bearer_challenge("invalid_token", str(error))},
        )
    if isinstance(error, InvalidInput):
        return invalid_request(_errors_of(error))
    if isinstance(error, NotFound):
        return ApiError(404, localized(str(error)))
    if isinstance(error, PermissionDenied):
        return ApiError(403, localized(str(error)), kind="forbidden")
    if isinstance(error, Conflict):
        return ApiError(409, localized(str(error)), kind="conflict")
    return ApiError(400, localized(str(error)))


def bearer_challenge(error: str | None = None, description: str = "", scope: str = "") -> str:
    """A ``WWW-Authenticate`` value for the Bearer scheme (RFC 6750 §3)."""
    parts = ['Bearer realm="grantmatch"']
    if error:
        parts.append(f'error="{error}"')
    if description:
        # Header values are Latin-1: keep the English text, without quotes.
        safe = description.encode("ascii", "replace").decode().replace('"', "'")
        parts.append(f'error_description="{safe}"')
    if scope:
        parts.append(f'scope="{scope}"')
    return ", ".join(parts)


def install(blueprint: Blueprint) -> None:
    """Answer every error raised under ``blueprint`` (and every routing failure under
    /api/) with a problem document."""

    def on_api_error(error: ApiError) -> Response:
        return problem_response(error)

    def on_domain_error(error: DomainError) -> Response:
        return problem_response(domain_error(error))

    def on_http_error(error: HTTPException) -> Response:
        return problem_response(_from_http(error))

    def on_unexpected(error: Exception) -> Response:
        if isinstance(error, HTTPException):
            return on_http_error(error)
        original = getattr(error, "original_exception", None) or error
        log.error("API request %s %s failed", request.method, request.path, exc_info=original)
        return problem_response(
            ApiError(500, "Something went wrong on our side; it has been logged.")
        )

    blueprint.register_error_handler(ApiError, on_api_error)
    blueprint.register_error_handler(DomainError, on_domain_error)
    for status in (400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 429):
        blueprint.register_error_handler(status, on_http_error)
    blueprint.register_error_handler(500, on_unexpected)
    blueprint.register_error_handler(Exception, on_unexpected)

    def on_register(state: BlueprintSetupState) -> None:
        state.app.before_request(_routing_failures)
        _keep_api_errors_out_of_html(state.app)

    blueprint.record_once(on_register)


def _routing_failures() -> Response | None:
    failure = request.routing_exception
    if failure is None or not request.path.startswith(API_PREFIX):
        return None
    if isinstance(failure, RequestRedirect) or not isinstance(failure, HTTPException):
        return None
    return problem_response(_from_http(failure))


def _keep_api_errors_out_of_html(app: App) -> None:
    # An error raised before routing finished (a body over MAX_CONTENT_LENGTH while the
    # form parser reads it, say) reaches the app's HTML handlers: answer those with a
    # problem too when the path is under /api/.
    @app.after_request
    def problem_not_html(response: Response) -> Response:
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code >= 400
            and response.mimetype == "text/html"
        ):
            status = response.status_code
            return problem_response(ApiError(status, http.HTTPStatus(status).phrase))
        return response
