"""Digest emails: the proposals made since the last digest, daily or weekly as each
registrant chose; never sent when there is nothing new."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.links import MATCHES_PATH, UNSUBSCRIBE, Links
from core.models import DigestFrequency, Profile, User
from core.services import emails
from core.services.consent import needs_consent
from core.services.introductions import proposals_for

PERIODS = {DigestFrequency.DAILY: timedelta(days=1), DigestFrequency.WEEKLY: timedelta(days=7)}
# A little slack, so a digest sent a few minutes late yesterday is still due today.
SLACK = timedelta(hours=1)


def due_users(session: Session, now: datetime) -> list[User]:
    """Verified registrants whose digest period has passed."""
    conditions = [
        (User.digest_frequency == frequency)
        & (or_(User.last_digest_at.is_(None), User.last_digest_at <= now - period + SLACK))
        for frequency, period in PERIODS.items()
    ]
    query = (
        select(User).where(User.email_verified_at.is_not(None), or_(*conditions)).order_by(User.id)
    )
    return list(session.scalars(query))


def send_digest(session: Session, user: User, *, now: datetime, links: Links) -> bool:
    """Queue ``user``'s digest if anything was proposed since the last one; True if so."""
    profile = session.scalar(select(Profile).where(Profile.owner_id == user.id).limit(1))
    if profile is None or needs_consent(profile):
        return False
    since = user.last_digest_at or user.created_at
    fresh = [
        p
        for p in proposals_for(session, profile)
        if p.answer is None and p.match.first_proposed_at > since
    ]
    if not fresh:
        return False
    unsubscribe = links.url(UNSUBSCRIBE, {"u": user.id})
    seen: set[int] = set()
    items = []
    for proposal in fresh:
        if proposal.partner.id in seen:
            continue
        seen.add(proposal.partner.id)
        items.append(
            {
                "title": proposal.partner.title,
                "field": proposal.match.field.label(user.locale.value),
            }
        )
    emails.queue_for_user(
        session,
        user,
        "digest",
        proposals=items,
        link=links.page(MATCHES_PATH),
        unsubscribe=unsubscribe,
        # RFC 8058 one-click unsubscribe, for mail clients that offer it.
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    user.last_digest_at = now
    return True


def send_due_digests(session: Session, *, now: datetime, links: Links) -> int:
    """Queue every due digest; returns how many were queued."""
    return sum(send_digest(session, user, now=now, links=links) for user in due_users(session, now))
