"""The JSON API under /api/v1: token-authenticated, described by an OpenAPI 3.1 document
generated from the declarations of its views (see web.api.registry)."""

from __future__ import annotations

from web.api import calls, matches, meta, pairs, profiles, runs
from web.api.blueprint import PREFIX, api, bp

__all__ = ["PREFIX", "api", "bp", "calls", "matches", "meta", "pairs", "profiles", "runs"]
