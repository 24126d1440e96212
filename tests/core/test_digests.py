"""Digest emails: only what is new since the last one, never empty, with one-click
unsubscribe, on each registrant's own rhythm."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.links import Links
from core.models import DigestFrequency, InterestState, OutgoingEmail, Profile, User, utcnow
from core.services import demo, digests, introductions, matching

LINKS = Links(base_url="https://match.example", secret_key="test-secret-key")


def _researcher(session: Session) -> tuple[User, Profile]:
    user = session.scalar(select(User).where(User.email == demo.DEMO_ACCOUNTS[0].email))
    assert user is not None
    profile = session.scalar(select(Profile).where(Profile.owner_id == user.id))
    assert profile is not None
    return user, profile


def _digests_to(session: Session, user: User) -> list[OutgoingEmail]:
    query = select(OutgoingEmail).where(
        OutgoingEmail.user_id == user.id, OutgoingEmail.kind == "digest"
    )
    return list(session.scalars(query))


def test_a_first_digest_lists_the_proposals_with_an_unsubscribe_link(session: Session) -> None:
    user, profile = _researcher(session)
    user.last_digest_at = None
    user.created_at = utcnow() - timedelta(days=30)
    now = utcnow()
    assert user in digests.due_users(session, now)
    assert digests.send_digest(session, user, now=now, links=LINKS)
    (message,) = _digests_to(session, user)
    partner_titles = {m.ca_profile.title for m in matching.matches_for_profile(session, profile)}
    assert any(title in message.body for title in partner_titles)
    assert message.locale.value == "ja"  # the demo researcher reads Japanese
    assert message.headers["List-Unsubscribe"].startswith("<https://match.example/unsubscribe/")
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert user.last_digest_at == now


def test_no_digest_when_nothing_is_new(session: Session) -> None:
    user, _ = _researcher(session)
    user.last_digest_at = utcnow()  # after every pair was proposed
    assert not digests.send_digest(session, user, now=utcnow() + timedelta(days=8), links=LINKS)
    assert _digests_to(session, user) == []


def test_weekly_digests_wait_a_week_and_daily_ones_a_day(session: Session) -> None:
    user, _ = _researcher(session)
    now = utcnow()
    user.last_digest_at = now - timedelta(days=2)
    user.digest_frequency = DigestFrequency.WEEKLY
    session.flush()
    assert user not in digests.due_users(session, now)
    user.digest_frequency = DigestFrequency.DAILY
    session.flush()
    assert user in digests.due_users(session, now)
    user.digest_frequency = DigestFrequency.NEVER
    session.flush()
    assert user not in digests.due_users(session, now)


def test_answered_proposals_are_left_out(session: Session) -> None:
    user, profile = _researcher(session)
    user.last_digest_at = None
    user.created_at = utcnow() - timedelta(days=30)
    for proposal in introductions.proposals_for(session, profile):
        introductions.answer_proposal(
            session,
            actor=user,
            profile=profile,
            partner_profile_id=proposal.partner.id,
            state=InterestState.NOT_NOW,
            links=LINKS,
        )
    assert not digests.send_digest(session, user, now=utcnow(), links=LINKS)
