"""ORM rows to response models, called inside the view's unit of work (so that related
rows can still load). What a registrant may see of a partner is decided here and only
here: :func:`partner_out` gives contact details only to an introduced pair."""

from __future__ import annotations

from dataclasses import asdict

from core.models import (
    GrantCall,
    Interest,
    Match,
    MatchRun,
    PairDecision,
    PairReview,
    Profile,
    utcnow,
)
from core.services import calls
from core.services.consent import needs_consent
from web.api import schemas


def profile_out(profile: Profile) -> schemas.ProfileOut:
    """A profile in full (its owner's or an officer's view)."""
    organization = profile.organization
    return schemas.ProfileOut(
        id=profile.id,
        kind=profile.kind,
        country=profile.country,
        region=profile.region,
        title=profile.title,
        summary=profile.summary,
        language=profile.language,
        keywords=list(profile.keywords),
        fields=[field.code for field in profile.fields],
        availability=profile.availability,
        seeking=list(profile.seeking),
        collaboration_types=list(profile.collaboration_types),
        orcid=profile.orcid,
        consented=not needs_consent(profile),
        matchable=profile.is_matchable,
        organization=schemas.OrganizationOut(
            name=organization.name,
            kind=organization.kind,
            country=organization.country,
            staff_count=organization.staff_count,
            founded_year=organization.founded_year,
            website=organization.website,
        ),
        contact=schemas.ContactOut(name=profile.contact_name, email=profile.contact_email),
        created_at=profile.created_at,
        updated_at=profile.updated_at,
    )


def partner_out(partner: Profile, *, introduced: bool) -> schemas.Partner:
    """A proposed partner as a registrant sees it: who they are and how to reach them
    only once both sides are introduced (staged disclosure)."""
    contact = None
    if introduced:
        contact = schemas.PartnerContact(
            name=partner.contact_name,
            email=partner.contact_email,
            organization_name=partner.organization.name,
            website=partner.organization.website,
        )
    return schemas.Partner(
        id=partner.id,
        kind=partner.kind,
        country=partner.country,
        region=partner.region,
        fields=[field.code for field in partner.fields],
        title=partner.title,
        summary=partner.summary,
        language=partner.language,
        contact=contact,
    )


def pair_side(profile: Profile) -> schemas.PairSide:
    """One side of a pair in officers' lists (no names or contact details)."""
    return schemas.PairSide(
        profile_id=profile.id,
        title=profile.title,
        kind=profile.kind,
        region=profile.region,
        organization_kind=profile.organization.kind,
    )


def pair_match(match: Match) -> schemas.PairMatch:
    return schemas.PairMatch(
        match_id=match.id,
        run_id=match.run_id,
        field=match.field.code,
        score=match.score,
        rank_jp=match.rank_jp,
        rank_ca=match.rank_ca,
        retained=match.retained,
    )


def interest_out(interest: Interest) -> schemas.InterestOut:
    return schemas.InterestOut(
        profile_id=interest.profile_id,
        state=interest.state,
        reason_code=interest.reason_code,
        reason_text=interest.reason_text,
        updated_at=interest.updated_at,
    )


def decision_out(decision: PairDecision) -> schemas.DecisionOut:
    return schemas.DecisionOut(
        id=decision.id,
        officer_id=decision.officer_id,
        decision=decision.decision,
        reason_code=decision.reason_code,
        note=decision.note,
        previous_status=decision.previous_status,
        new_status=decision.new_status,
        created_at=decision.created_at,
    )


def review_out(review: PairReview | None) -> schemas.ReviewOut | None:
    if review is None:
        return None
    return schemas.ReviewOut(
        status=review.status,
        reason_code=review.reason_code,
        note=review.note,
        updated_at=review.updated_at,
        updated_by=review.updated_by,
    )


def call_out(call: GrantCall) -> schemas.CallOut:
    return schemas.CallOut(id=call.id, created_at=call.created_at, **asdict(calls.details_of(call)))


def run_out(run: MatchRun) -> schemas.RunOut:
    elapsed = None
    if run.started_at is not None:
        end = run.finished_at or utcnow()
        elapsed = round(max(0.0, (end - run.started_at).total_seconds()), 3)
    return schemas.RunOut(
        id=run.id,
        kind=run.kind,
        status=run.status,
        is_live=run.is_live,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        elapsed_seconds=elapsed,
        pair_count=run.pair_count,
        vocabulary_size=run.vocabulary_size,
        blocks_done=run.blocks_done,
        blocks_total=run.blocks_total,
        error=run.error,
        parameters=dict(run.parameters),
    )
