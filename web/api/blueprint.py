"""The API blueprint under /api/v1 and its registry of operations (see web.api.registry).

Every operation is rate-limited per token (``API_RATE_LIMIT`` in the app config, 120 per
minute by default) with the app's limiter, which keeps its counts in Redis when a broker
is configured, so that several web processes share them.
"""

from __future__ import annotations

from flask import Blueprint

from web.api import problems
from web.api.auth import rate_limit, rate_limit_key
from web.api.registry import Api
from web.security import limiter

PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=PREFIX)
problems.install(bp)
limiter.limit(rate_limit, key_func=rate_limit_key)(bp)

api = Api(
    bp,
    title="Japan–Canada Partner Matching API",
    version="1.0.0",
    description=(
        "Profiles, proposed partners, the officers' review queue and decisions, grant calls "
        "and matching runs. Authenticate with a personal access token from your account "
        "page (`Authorization: Bearer gm_...`); the token's scopes (read, write, officer) "
        "decide what it may do. Errors are RFC 9457 problem details; lists are paginated "
        "with cursors (`next_cursor`, null on the last page)."
    ),
)
api.tag("account", "The token and its owner.")
api.tag("profiles", "Your own profile; officers read any profile.")
api.tag("matches", "The partners proposed to you, and your answers.")
api.tag("review", "Officers: the review queue, one pair in full, decisions.")
api.tag("calls", "Officers: grant calls and the pairs eligible for them.")
api.tag("runs", "Officers: matching runs; start a full rematch.")
api.tag("reference", "This document and its reference page.")
