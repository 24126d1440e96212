"""Consent to cross-border sharing: nobody sees a profile before its owner agrees.

Japan's APPI (art. 28) requires consent, with information on the foreign country's
system, before personal data goes to a third party abroad; Canada's PIPEDA requires
notice of the purposes and of the transfer. The notice shown is versioned: each consent
records the version it answered, and a new version asks again.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import PermissionDenied
from core.models import ConsentAction, ConsentEvent, Profile, User, utcnow
from core.services import audit, outbox

NOTICE_VERSION = "2026-11"


def needs_consent(profile: Profile) -> bool:
    """True while the profile has no consent to the current notice."""
    return profile.consent_at is None or profile.consent_version != NOTICE_VERSION


def give_consent(session: Session, *, profile: Profile, actor: User) -> None:
    """Record consent to the current notice and bring the profile into matching."""
    if profile.owner_id != actor.id:
        raise PermissionDenied("only the owner may consent for a profile")
    profile.consent_at = utcnow()
    profile.consent_version = NOTICE_VERSION
    session.add(
        ConsentEvent(
            profile_id=profile.id, action=ConsentAction.GIVEN, notice_version=NOTICE_VERSION
        )
    )
    outbox.request_rematch(session, profile_id=profile.id, reason="consent_given")
    audit.record(
        session,
        actor_id=actor.id,
        action="consent.given",
        subject_type="profile",
        subject_id=profile.id,
        details={"notice_version": NOTICE_VERSION},
    )


def withdraw_consent(session: Session, *, profile: Profile, actor: User) -> None:
    """Withdraw consent: the profile leaves matching (its pairs are removed by the rematch
    request written here) and nobody new sees it."""
    if profile.owner_id != actor.id:
        raise PermissionDenied("only the owner may withdraw consent for a profile")
    if profile.consent_at is None:
        return
    session.add(
        ConsentEvent(
            profile_id=profile.id,
            action=ConsentAction.WITHDRAWN,
            notice_version=profile.consent_version or NOTICE_VERSION,
        )
    )
    profile.consent_at = None
    profile.consent_version = None
    outbox.request_rematch(session, profile_id=profile.id, reason="consent_withdrawn")
    audit.record(
        session,
        actor_id=actor.id,
        action="consent.withdrawn",
        subject_type="profile",
        subject_id=profile.id,
    )


def history(session: Session, profile_id: int) -> list[ConsentEvent]:
    query = (
        select(ConsentEvent)
        .where(ConsentEvent.profile_id == profile_id)
        .order_by(ConsentEvent.occurred_at, ConsentEvent.id)
    )
    return list(session.scalars(query))
