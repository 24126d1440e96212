"""The partners proposed to you (staged disclosure: no name, organization or contact
before an introduction) and your answers to them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.db import session_scope
from core.models import Country, InterestState, Profile
from core.services import introductions
from core.services import profiles as profile_service
from core.services.consent import needs_consent
from core.services.introductions import Proposal, ProposalFilters
from core.services.tokens import READ, WRITE
from web.api import cursors, present, schemas
from web.api.auth import Caller
from web.api.blueprint import api
from web.api.problems import ApiError
from web.support import hand_over, links

NO_PROFILE = "You have no profile yet: PUT /api/v1/profile creates it."
NEEDS_CONSENT = (
    "Consent to cross-border sharing on your profile page first: until then nothing is "
    "proposed to you or about you."
)


def _consented_profile(session: Session, caller: Caller) -> Profile:
    profile = profile_service.profile_of(session, caller.user.id)
    if profile is None:
        raise ApiError(404, NO_PROFILE)
    if needs_consent(profile):
        raise ApiError(409, NEEDS_CONSENT, kind="conflict")
    return profile


def _proposal_out(profile: Profile, proposal: Proposal) -> schemas.Proposal:
    match = proposal.match
    japanese = profile.country == Country.JP
    return schemas.Proposal(
        match_id=match.id,
        field=match.field.code,
        score=match.score,
        rank=proposal.own_rank,
        first_proposed_at=match.first_proposed_at,
        is_new=proposal.is_new,
        terms=[[jp, ca] if japanese else [ca, jp] for jp, ca in match.terms],
        partner=present.partner_out(proposal.partner, introduced=proposal.introduced),
        answer=(
            schemas.AnswerOut(
                state=proposal.answer.state,
                reason_code=proposal.answer.reason_code,
                updated_at=proposal.answer.updated_at,
            )
            if proposal.answer is not None
            else None
        ),
        introduction=proposal.introduction.status if proposal.introduction else None,
    )


def _key(proposal: Proposal) -> cursors.Key:
    return (-proposal.match.score, proposal.match.id)


@api.operation(
    "GET",
    "/matches",
    summary="Partners proposed to you",
    tag="matches",
    scopes=(READ,),
    query=schemas.ProposalQuery,
    responses={
        200: schemas.ProposalPage,
        404: (schemas.Problem, "You have no profile yet."),
        409: (schemas.Problem, "Your profile has no consent to cross-border sharing yet."),
    },
    links={"answer": {"partner_id": "$response.body#/items/0/partner/id"}},
)
def my_matches(caller: Caller, query: schemas.ProposalQuery) -> schemas.ProposalPage:
    """Your live proposals, best first, in every field (filters as on My matches). A
    partner's name, organization and contact details appear only once you are both
    introduced. Reading them does not mark them seen."""
    after = cursors.decode(query.cursor, "matches", (float, int))[0] if query.cursor else None
    filters = ProposalFilters(
        field=query.field or "",
        partner_kind=query.partner_kind.value if query.partner_kind else "",
        region=query.region or "",
        only_new=query.only_new,
    )
    with session_scope() as session:
        profile = _consented_profile(session, caller)
        seen_at = caller.row(session).matches_seen_at
        found = introductions.proposals_for(session, profile, filters=filters, seen_at=seen_at)
        page, following = cursors.page_after(found, _key, after, query.limit)
        items = [_proposal_out(profile, proposal) for proposal in page]
    return schemas.ProposalPage(
        items=items,
        next_cursor=cursors.encode("matches", following) if following else None,
    )


@api.operation(
    "PUT",
    "/matches/{partner_id}/answer",
    summary="Answer about a proposed partner",
    tag="matches",
    scopes=(WRITE,),
    path_params={"partner_id": "The partner's profile id (partner.id in a proposal)."},
    body=schemas.AnswerIn,
    responses={
        200: schemas.AnswerResult,
        409: (schemas.Problem, "Your profile has no consent to cross-border sharing yet."),
    },
)
def answer(caller: Caller, partner_id: int, body: schemas.AnswerIn) -> schemas.AnswerResult:
    """Interested, not now (with an optional reason) or saved. When both sides are
    interested you are introduced (or, for a grant call that requires it, an officer
    approves the introduction first) and both of you get an email."""
    with session_scope() as session:
        profile = _consented_profile(session, caller)
        introduction = introductions.answer_proposal(
            session,
            actor=caller.row(session),
            profile=profile,
            partner_profile_id=partner_id,
            state=body.state,
            reason_code=body.reason_code,
            reason_text=body.reason_text,
            links=links(),
        )
        result = schemas.AnswerResult(
            state=body.state,
            reason_code=body.reason_code if body.state == InterestState.NOT_NOW else None,
            introduction=introduction.status if introduction is not None else None,
        )
    hand_over()
    return result
