"""A registrant's proposals: per field, best first, with answers and introductions."""

from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from core.db import session_scope
from core.errors import InvalidInput
from core.models import DeclineReason, InterestState, utcnow
from core.regions import REGIONS
from core.services import consent as consent_service
from core.services import fields as field_service
from core.services import introductions, matching
from core.services import profiles as profile_service
from core.services.introductions import ProposalFilters
from web.support import acting_user, hand_over, links, show_errors

bp = Blueprint("matches", __name__, url_prefix="/matches")

STRONG, GOOD = 0.35, 0.2
# Without a filter, the best few per field (a page of every proposal with its forms grows
# to hundreds of kilobytes); any filter, a field for instance, shows them all.
PER_FIELD = 10
DECLINE_REASONS = [
    ("", _l("No reason given")),
    ("off_topic", _l("Not close to my work")),
    ("not_the_right_time", _l("Not the right time")),
    ("no_capacity", _l("No capacity now")),
    ("already_in_contact", _l("Already in contact")),
    ("other", _l("Other")),
]


def score_band(score: float) -> str:
    """strong / good / possible, the way a registrant sees a score."""
    if score >= STRONG:
        return "strong"
    if score >= GOOD:
        return "good"
    return "possible"


class AnswerForm(FlaskForm):  # type: ignore[misc]
    state = HiddenField(
        validators=[DataRequired(), AnyOf([s.value for s in InterestState])],
    )
    reason_code = SelectField(
        _l("Reason (optional)"), choices=DECLINE_REASONS, validators=[Optional()]
    )
    reason_text = TextAreaField(_l("Anything to add (optional)"), validators=[Length(max=1000)])


@bp.route("/")
@login_required
def mine() -> ResponseReturnValue:
    filters = ProposalFilters(
        field=request.args.get("field", "")[:40],
        partner_kind=request.args.get("kind", "")[:20],
        region=request.args.get("region", "")[:10],
        only_new=request.args.get("new") == "1",
    )
    locale = str(get_locale() or "en")
    with session_scope() as session:
        profile = profile_service.profile_of(session, current_user.id)
        if profile is None:
            return render_template("profile_missing.html")
        if consent_service.needs_consent(profile):
            return redirect(url_for("profiles.consent"))
        user = acting_user(session)
        seen_at = user.matches_seen_at
        proposals = introductions.proposals_for(session, profile, filters=filters, seen_at=seen_at)
        by_field: dict[str, list[introductions.Proposal]] = defaultdict(list)
        for proposal in proposals:
            by_field[proposal.match.field.label(locale)].append(proposal)
        partner_country = "CA" if profile.country.value == "JP" else "JP"
        page = render_template(
            "matches.html",
            profile=profile,
            by_field=dict(by_field),
            filters=filters,
            fields=field_service.list_fields(session),
            regions=[r for r in REGIONS.values() if r.country == partner_country],
            introduced=introductions.introductions_of(session, profile),
            score_band=score_band,
            live=matching.live_run(session),
            locale=locale,
            answer_form=AnswerForm(),
            per_field=PER_FIELD,
            show_all=bool(
                filters.field or filters.partner_kind or filters.region or filters.only_new
            ),
            paused=not profile.is_matchable,
        )
        if not filters.only_new:
            user.matches_seen_at = utcnow()
    return page


@bp.route("/<int:partner_id>/answer", methods=["POST"])
@login_required
def answer(partner_id: int) -> ResponseReturnValue:
    form = AnswerForm()
    if not form.validate_on_submit():
        abort(400)
    with session_scope() as session:
        profile = profile_service.profile_of(session, current_user.id)
        if profile is None:
            abort(404)
        try:
            introduction = introductions.answer_proposal(
                session,
                actor=acting_user(session),
                profile=profile,
                partner_profile_id=partner_id,
                state=InterestState(form.state.data),
                reason_code=DeclineReason(form.reason_code.data) if form.reason_code.data else None,
                reason_text=form.reason_text.data or "",
                links=links(),
            )
        except InvalidInput as error:
            show_errors(form, error)
            flash(" ".join(form.reason_text.errors), "error")
            return redirect(url_for("matches.mine"))
        made = introduction is not None
    hand_over()
    state = InterestState(form.state.data)
    if made:
        flash(_("You are both interested: you are introduced. See their details below."))
    elif state == InterestState.INTERESTED:
        flash(_("Noted. If they are interested too, we introduce you to each other."))
    elif state == InterestState.SAVED:
        flash(_("Saved for later."))
    else:
        flash(_("Noted. We will not propose this partner to you again in the digest."))
    return redirect(url_for("matches.mine") + f"#partner-{partner_id}")
