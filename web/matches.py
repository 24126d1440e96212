"""A registrant's ranked matches."""

from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from core.db import session_scope
from core.models import Country, Match
from core.services import matching
from core.services import profiles as profile_service

bp = Blueprint("matches", __name__, url_prefix="/matches")

STRONG, GOOD = 0.35, 0.2


def score_band(score: float) -> str:
    """strong / good / possible, the way a registrant sees a score."""
    if score >= STRONG:
        return "strong"
    if score >= GOOD:
        return "good"
    return "possible"


@bp.route("/")
@login_required
def mine() -> ResponseReturnValue:
    with session_scope() as session:
        profile = profile_service.profile_of(session, current_user.id)
        if profile is None:
            return render_template("profile_missing.html")
        by_field: dict[str, list[Match]] = defaultdict(list)
        for match in matching.matches_for_profile(session, profile):
            by_field[match.field.label(current_user.locale)].append(match)
        is_japanese = profile.country == Country.JP
        return render_template(
            "matches.html",
            profile=profile,
            by_field=dict(by_field),
            is_japanese=is_japanese,
            score_band=score_band,
            live=matching.live_run(session),
            locale=current_user.locale,
        )
