"""Proposals as a registrant sees them, their answers (interested, not now, save), and
the introduction made when both sides are interested.

Staged disclosure: until an introduction exists, a partner is shown without name,
organization or contact details; :class:`Proposal` carries them only when introduced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from core.errors import InvalidInput, Message, NotFound, PermissionDenied
from core.links import MATCHES_PATH, Links
from core.models import (
    CallProposal,
    Country,
    DeclineReason,
    GrantCall,
    Interest,
    InterestState,
    Introduction,
    IntroductionStatus,
    Match,
    PairReview,
    Profile,
    ReviewStatus,
    User,
    utcnow,
)
from core.services import audit, emails
from core.services.consent import needs_consent
from core.services.matching import matches_for_profile

MAX_REASON_LENGTH = 1000


@dataclass(frozen=True)
class Proposal:
    """One proposed partner in one field, from the viewing profile's side."""

    match: Match
    partner: Profile
    own_rank: int
    answer: Interest | None
    partner_interested: bool
    introduction: Introduction | None
    is_new: bool

    @property
    def introduced(self) -> bool:
        return (
            self.introduction is not None
            and self.introduction.status == IntroductionStatus.INTRODUCED
        )


@dataclass(frozen=True)
class ProposalFilters:
    field: str = ""
    partner_kind: str = ""
    region: str = ""
    only_new: bool = False


def partner_side(profile: Profile, match: Match) -> Profile:
    return match.ca_profile if profile.country == Country.JP else match.jp_profile


def _pair(profile: Profile, partner_id: int) -> tuple[int, int]:
    return (profile.id, partner_id) if profile.country == Country.JP else (partner_id, profile.id)


def proposals_for(
    session: Session,
    profile: Profile,
    *,
    filters: ProposalFilters | None = None,
    seen_at: datetime | None = None,
) -> list[Proposal]:
    """The profile's live proposals, best first within each field, with its answers."""
    filters = filters or ProposalFilters()
    answers = {
        i.partner_profile_id: i
        for i in session.scalars(select(Interest).where(Interest.profile_id == profile.id))
    }
    interested_in_me = set(
        session.scalars(
            select(Interest.profile_id).where(
                Interest.partner_profile_id == profile.id,
                Interest.state == InterestState.INTERESTED,
            )
        )
    )
    own = (
        Introduction.jp_profile_id if profile.country == Country.JP else Introduction.ca_profile_id
    )
    other = (
        Introduction.ca_profile_id if profile.country == Country.JP else Introduction.jp_profile_id
    )
    introductions = {
        partner_id: intro
        for intro, partner_id in session.execute(
            select(Introduction, other).where(own == profile.id)
        )
    }
    found: list[Proposal] = []
    for match in matches_for_profile(session, profile):
        partner = partner_side(profile, match)
        is_new = seen_at is None or match.first_proposed_at > seen_at
        if filters.field and match.field.code != filters.field:
            continue
        if filters.partner_kind and partner.kind.value != filters.partner_kind:
            continue
        if filters.region and partner.region != filters.region:
            continue
        if filters.only_new and not is_new:
            continue
        found.append(
            Proposal(
                match=match,
                partner=partner,
                own_rank=match.rank_jp if profile.country == Country.JP else match.rank_ca,
                answer=answers.get(partner.id),
                partner_interested=partner.id in interested_in_me,
                introduction=introductions.get(partner.id),
                is_new=is_new,
            )
        )
    return found


def introductions_of(session: Session, profile: Profile) -> list[tuple[Introduction, Profile]]:
    """The profile's introductions (made or awaiting approval) with the partner, newest first."""
    query = (
        select(Introduction)
        .where(
            or_(Introduction.jp_profile_id == profile.id, Introduction.ca_profile_id == profile.id)
        )
        .options(
            selectinload(Introduction.jp_profile).selectinload(Profile.organization),
            selectinload(Introduction.ca_profile).selectinload(Profile.organization),
        )
        .order_by(Introduction.created_at.desc(), Introduction.id.desc())
    )
    return [
        (intro, intro.ca_profile if profile.country == Country.JP else intro.jp_profile)
        for intro in session.scalars(query)
    ]


def _is_proposed_or_known(session: Session, profile: Profile, partner_id: int) -> bool:
    # A registrant may answer a partner proposed in the live run, or one answered before
    # (a rematch may have dropped it since); anything else is not theirs to see.
    if any(
        partner_side(profile, m).id == partner_id for m in matches_for_profile(session, profile)
    ):
        return True
    known = session.scalar(
        select(Interest.id).where(
            Interest.profile_id == profile.id, Interest.partner_profile_id == partner_id
        )
    )
    return known is not None


def answer_proposal(
    session: Session,
    *,
    actor: User,
    profile: Profile,
    partner_profile_id: int,
    state: InterestState,
    reason_code: DeclineReason | None = None,
    reason_text: str = "",
    links: Links,
) -> Introduction | None:
    """Record the owner's answer about a proposed partner. When both sides are interested,
    an introduction is made and both are emailed; returns it (None otherwise)."""
    if profile.owner_id != actor.id:
        raise PermissionDenied("only the owner may answer for a profile")
    if needs_consent(profile):
        raise PermissionDenied("consent is needed before answering proposals")
    if not _is_proposed_or_known(session, profile, partner_profile_id):
        raise NotFound(f"no proposal of profile {partner_profile_id}")
    if len(reason_text) > MAX_REASON_LENGTH:
        raise InvalidInput(
            "reason too long",
            {
                "reason_text": Message(
                    "Keep the reason under %(length)s characters.", length=MAX_REASON_LENGTH
                )
            },
        )
    if state != InterestState.NOT_NOW:
        reason_code, reason_text = None, ""
    answer = session.scalar(
        select(Interest).where(
            Interest.profile_id == profile.id, Interest.partner_profile_id == partner_profile_id
        )
    )
    now = utcnow()
    if answer is None:
        answer = Interest(profile_id=profile.id, partner_profile_id=partner_profile_id)
        session.add(answer)
    answer.state = state
    answer.reason_code = reason_code
    answer.reason_text = reason_text.strip()
    answer.updated_at = now
    session.flush()
    audit.record(
        session,
        actor_id=actor.id,
        action=f"proposal.{state.value}",
        subject_type="profile_pair",
        subject_id=f"{profile.id}:{partner_profile_id}",
        details={"reason_code": reason_code.value if reason_code else None},
    )
    if state != InterestState.INTERESTED:
        return None
    mutual = session.scalar(
        select(Interest.id).where(
            Interest.profile_id == partner_profile_id,
            Interest.partner_profile_id == profile.id,
            Interest.state == InterestState.INTERESTED,
        )
    )
    if mutual is None:
        return None
    return _introduce(session, profile, partner_profile_id, links=links)


def _introduce(
    session: Session, profile: Profile, partner_profile_id: int, *, links: Links
) -> Introduction:
    jp_id, ca_id = _pair(profile, partner_profile_id)
    existing = session.scalar(
        select(Introduction).where(
            Introduction.jp_profile_id == jp_id, Introduction.ca_profile_id == ca_id
        )
    )
    if existing is not None:
        return existing
    waits = needs_approval(session, jp_id, ca_id)
    introduction = Introduction(
        jp_profile_id=jp_id,
        ca_profile_id=ca_id,
        status=IntroductionStatus.AWAITING_APPROVAL if waits else IntroductionStatus.INTRODUCED,
        introduced_at=None if waits else utcnow(),
    )
    session.add(introduction)
    session.flush()
    audit.record(
        session,
        actor_id=None,
        action="introduction.awaiting_approval" if waits else "introduction.made",
        subject_type="introduction",
        subject_id=introduction.id,
        details={"jp_profile_id": jp_id, "ca_profile_id": ca_id},
    )
    if not waits:
        send_introduction_emails(session, introduction, links=links)
    return introduction


def needs_approval(session: Session, jp_id: int, ca_id: int) -> bool:
    """True when the pair was proposed by a grant call that requires an officer's approval
    before introductions, and no officer has approved it yet."""
    by_call = session.scalar(
        select(CallProposal.id)
        .join(GrantCall, GrantCall.id == CallProposal.call_id)
        .where(
            CallProposal.jp_profile_id == jp_id,
            CallProposal.ca_profile_id == ca_id,
            GrantCall.requires_approval.is_(True),
        )
        .limit(1)
    )
    if by_call is None:
        return False
    approved = session.scalar(
        select(PairReview.id).where(
            PairReview.jp_profile_id == jp_id,
            PairReview.ca_profile_id == ca_id,
            PairReview.status == ReviewStatus.APPROVED,
        )
    )
    return approved is None


def send_introduction_emails(session: Session, introduction: Introduction, *, links: Links) -> None:
    """Tell both sides who the other is, each in their own language."""
    session.flush()  # refresh below must not discard a status just set
    session.refresh(introduction)
    pair = (introduction.jp_profile, introduction.ca_profile)
    for own, partner in (pair, pair[::-1]):
        if own.owner is None:
            continue
        emails.queue_for_user(
            session, own.owner, "introduction", partner=partner, link=links.page(MATCHES_PATH)
        )
