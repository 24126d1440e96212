"""Answers to proposals and introductions, at the service level."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import NotFound, PermissionDenied
from core.links import Links
from core.models import Country, InterestState, Introduction, OutgoingEmail
from core.services import consent, introductions, matching
from tests.factories import make_profile, make_user

LINKS = Links(base_url="https://match.example", secret_key="test-secret-key")
SUMMARY = (
    "Superconducting qubit control electronics with cryogenic CMOS for quantum processors "
    "and qubit readout."
)


def _pair(session: Session) -> tuple:  # type: ignore[type-arg]
    jp_user, ca_user = make_user(session), make_user(session)
    jp = make_profile(
        session, country=Country.JP, summary=SUMMARY, fields=["quantum"], owner=jp_user
    )
    ca = make_profile(
        session, country=Country.CA, summary=SUMMARY, fields=["quantum"], owner=ca_user
    )
    for profile, user in ((jp, jp_user), (ca, ca_user)):
        consent.give_consent(session, profile=profile, actor=user)
    matching.rematch_profile(session, profile_id=jp.id, top_k=20)
    matching.rematch_profile(session, profile_id=ca.id, top_k=20)
    return jp_user, jp, ca_user, ca


def test_mutual_interest_introduces_once_and_emails_both(session: Session) -> None:
    jp_user, jp, ca_user, ca = _pair(session)
    first = introductions.answer_proposal(
        session,
        actor=jp_user,
        profile=jp,
        partner_profile_id=ca.id,
        state=InterestState.INTERESTED,
        links=LINKS,
    )
    assert first is None
    made = introductions.answer_proposal(
        session,
        actor=ca_user,
        profile=ca,
        partner_profile_id=jp.id,
        state=InterestState.INTERESTED,
        links=LINKS,
    )
    assert made is not None and made.introduced_at is not None
    again = introductions.answer_proposal(
        session,
        actor=ca_user,
        profile=ca,
        partner_profile_id=jp.id,
        state=InterestState.INTERESTED,
        links=LINKS,
    )
    assert again is not None and again.id == made.id
    assert len(list(session.scalars(select(Introduction)))) == 1
    sent = session.scalars(select(OutgoingEmail).where(OutgoingEmail.kind == "introduction"))
    assert {m.to_address for m in sent} == {jp_user.email, ca_user.email}
    proposal = next(p for p in introductions.proposals_for(session, jp) if p.partner.id == ca.id)
    assert proposal.introduced


def test_only_the_owner_answers_for_a_profile(session: Session) -> None:
    _, jp, ca_user, ca = _pair(session)
    with pytest.raises(PermissionDenied):
        introductions.answer_proposal(
            session,
            actor=ca_user,
            profile=jp,
            partner_profile_id=ca.id,
            state=InterestState.INTERESTED,
            links=LINKS,
        )


def test_a_partner_never_proposed_cannot_be_answered(session: Session) -> None:
    jp_user, jp, _, _ = _pair(session)
    stranger = make_profile(
        session, country=Country.CA, summary="Seafood processing logistics.", fields=["other"]
    )
    with pytest.raises(NotFound):
        introductions.answer_proposal(
            session,
            actor=jp_user,
            profile=jp,
            partner_profile_id=stranger.id,
            state=InterestState.INTERESTED,
            links=LINKS,
        )


def test_answers_need_consent(session: Session) -> None:
    jp_user, jp, _, ca = _pair(session)
    consent.withdraw_consent(session, profile=jp, actor=jp_user)
    with pytest.raises(PermissionDenied):
        introductions.answer_proposal(
            session,
            actor=jp_user,
            profile=jp,
            partner_profile_id=ca.id,
            state=InterestState.INTERESTED,
            links=LINKS,
        )


def test_a_call_that_requires_approval_holds_the_introduction_until_an_officer_approves(
    session: Session,
) -> None:
    from datetime import date

    from core.models import CallProposal, Decision, GrantCall, IntroductionStatus, Role
    from core.services import reviews
    from core.services.fields import get_field

    jp_user, jp, ca_user, ca = _pair(session)
    call = GrantCall(
        title="Quantum pilot",
        field_codes=["quantum"],
        opens_on=date(2026, 1, 1),
        closes_on=date(2026, 12, 31),
        requires_approval=True,
    )
    session.add(call)
    session.flush()
    session.add(
        CallProposal(
            call_id=call.id,
            field_id=get_field(session, "quantum").id,
            jp_profile_id=jp.id,
            ca_profile_id=ca.id,
            score=0.5,
        )
    )
    session.flush()
    for actor, profile, partner in ((jp_user, jp, ca), (ca_user, ca, jp)):
        made = introductions.answer_proposal(
            session,
            actor=actor,
            profile=profile,
            partner_profile_id=partner.id,
            state=InterestState.INTERESTED,
            links=LINKS,
        )
    assert made is not None and made.status == IntroductionStatus.AWAITING_APPROVAL
    assert not list(
        session.scalars(select(OutgoingEmail).where(OutgoingEmail.kind == "introduction"))
    )
    officer = make_user(session, role=Role.OFFICER)
    reviews.decide(
        session, officer=officer, jp_id=jp.id, ca_id=ca.id, decision=Decision.APPROVE, links=LINKS
    )
    assert made.status == IntroductionStatus.INTRODUCED
    sent = session.scalars(select(OutgoingEmail).where(OutgoingEmail.kind == "introduction"))
    assert {m.to_address for m in sent} == {jp_user.email, ca_user.email}
