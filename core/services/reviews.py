"""Program officers' review of proposed pairs: the queue, one pair in full, decisions
(approve, reject, shortlist, note; one by one or in bulk) and conflicts of interest.

A decision belongs to the pair of profiles (whatever the field or the run that proposed
it), is written to the pair's decision history and to the audit trail, and is refused to
an officer who declared a conflict with either organization.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from core.errors import InvalidInput, Message, NotFound, PermissionDenied
from core.links import Links
from core.models import (
    Decision,
    Field,
    Interest,
    Introduction,
    IntroductionStatus,
    Match,
    MatchRun,
    OfficerConflict,
    Organization,
    PairDecision,
    PairReview,
    Profile,
    ReasonCode,
    ReviewStatus,
    User,
    utcnow,
)
from core.services import audit
from core.services.introductions import send_introduction_emails
from core.services.matching import live_run

PAGE_SIZE = 50
MAX_NOTE_LENGTH = 2000
MAX_EXPORT_ROWS = 200_000
SORTS = ("score", "-score", "newest", "field")
REVIEW_STATES = ("none", "shortlisted", "approved", "rejected", "introduced")
PAIR_KINDS = (
    "researcher-researcher",
    "researcher-startup",
    "startup-researcher",
    "startup-startup",
)
_NEW_STATUS = {
    Decision.APPROVE: ReviewStatus.APPROVED,
    Decision.REJECT: ReviewStatus.REJECTED,
    Decision.SHORTLIST: ReviewStatus.SHORTLISTED,
}


@dataclass(frozen=True)
class QueueFilters:
    """The review queue's filters; empty values mean "any"."""

    field: str = ""
    min_score: float | None = None
    max_score: float | None = None
    pair_kind: str = ""
    region: str = ""
    organization_kind: str = ""
    review_status: str = ""
    only_new: bool = False
    call_id: int | None = None


@dataclass(frozen=True)
class QueueRow:
    match: Match
    status: str  # "none", a ReviewStatus value, or "introduced"


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    pages: int
    # True when the count stopped at the caller's ``count_limit``: more pairs match than
    # ``total``, and only the first ``pages`` pages can be reached by paging.
    total_is_lower_bound: bool = False


JpProfile = aliased(Profile, name="jp_profile")
CaProfile = aliased(Profile, name="ca_profile")
JpOrganization = aliased(Organization, name="jp_organization")
CaOrganization = aliased(Organization, name="ca_organization")


def _queue_query(session: Session, run: MatchRun, filters: QueueFilters) -> Select[Any]:
    """The live pairs that pass ``filters`` (the rows only: statuses are read for the page
    shown, see :func:`_statuses`). Profiles and organizations are joined only when a
    filter needs them, and review states are EXISTS tests, so that PostgreSQL can walk
    the (run, score) index and stop after one page."""
    query: Any = select(Match).where(Match.run_id == run.id)
    if filters.field:
        field_id = select(Field.id).where(Field.code == filters.field).scalar_subquery()
        query = query.where(Match.field_id == field_id)
    if filters.min_score is not None:
        query = query.where(Match.score >= filters.min_score)
    if filters.max_score is not None:
        query = query.where(Match.score <= filters.max_score)
    if filters.pair_kind in PAIR_KINDS or filters.region or filters.organization_kind:
        query = query.join(JpProfile, JpProfile.id == Match.jp_profile_id).join(
            CaProfile, CaProfile.id == Match.ca_profile_id
        )
    if filters.pair_kind in PAIR_KINDS:
        jp_kind, ca_kind = filters.pair_kind.split("-")
        query = query.where(JpProfile.kind == jp_kind, CaProfile.kind == ca_kind)
    if filters.region:
        query = query.where(
            or_(JpProfile.region == filters.region, CaProfile.region == filters.region)
        )
    if filters.organization_kind:
        query = (
            query.join(JpOrganization, JpOrganization.id == JpProfile.organization_id)
            .join(CaOrganization, CaOrganization.id == CaProfile.organization_id)
            .where(
                or_(
                    JpOrganization.kind == filters.organization_kind,
                    CaOrganization.kind == filters.organization_kind,
                )
            )
        )
    if filters.only_new and run.started_at is not None:
        query = query.where(Match.first_proposed_at >= run.started_at)
    reviewed = select(PairReview.id).where(
        PairReview.jp_profile_id == Match.jp_profile_id,
        PairReview.ca_profile_id == Match.ca_profile_id,
    )
    introduced = select(Introduction.id).where(
        Introduction.jp_profile_id == Match.jp_profile_id,
        Introduction.ca_profile_id == Match.ca_profile_id,
    )
    status = filters.review_status
    if status == "none":
        query = query.where(~reviewed.exists(), ~introduced.exists())
    elif status == "introduced":
        query = query.where(
            introduced.where(Introduction.status == IntroductionStatus.INTRODUCED).exists()
        )
    elif status in ("shortlisted", "approved", "rejected"):
        query = query.where(reviewed.where(PairReview.status == status).exists())
    return cast("Select[Any]", query)


def _statuses(session: Session, matches: Sequence[Match]) -> dict[tuple[int, int], str]:
    """The review status of each pair among ``matches`` ("none" when undecided)."""
    pairs = {(m.jp_profile_id, m.ca_profile_id) for m in matches}
    if not pairs:
        return {}
    jp_ids = {jp for jp, _ in pairs}
    found: dict[tuple[int, int], str] = {}
    for jp, ca, review in session.execute(
        select(PairReview.jp_profile_id, PairReview.ca_profile_id, PairReview.status).where(
            PairReview.jp_profile_id.in_(jp_ids)
        )
    ):
        if (jp, ca) in pairs:
            found[(jp, ca)] = review.value
    for jp, ca in session.execute(
        select(Introduction.jp_profile_id, Introduction.ca_profile_id).where(
            Introduction.jp_profile_id.in_(jp_ids),
            Introduction.status == IntroductionStatus.INTRODUCED,
        )
    ):
        if (jp, ca) in pairs:
            found[(jp, ca)] = "introduced"
    return {pair: found.get(pair, "none") for pair in pairs}


def _rows(session: Session, matches: Sequence[Match]) -> list[QueueRow]:
    statuses = _statuses(session, matches)
    return [QueueRow(m, statuses[(m.jp_profile_id, m.ca_profile_id)]) for m in matches]


def _ordered(query: Select[Any], sort: str) -> Select[Any]:
    if sort == "-score":
        return query.order_by(Match.score.asc(), Match.id)
    if sort == "newest":
        return query.order_by(Match.first_proposed_at.desc(), Match.score.desc(), Match.id)
    if sort == "field":
        return query.order_by(Match.field_id, Match.score.desc(), Match.id)
    return query.order_by(Match.score.desc(), Match.id)


def _decided_statuses(session: Session) -> dict[tuple[int, int], str]:
    """Every reviewed or introduced pair's status (a few thousand rows at most)."""
    found = {
        (jp, ca): status.value
        for jp, ca, status in session.execute(
            select(PairReview.jp_profile_id, PairReview.ca_profile_id, PairReview.status)
        )
    }
    for jp, ca in session.execute(
        select(Introduction.jp_profile_id, Introduction.ca_profile_id).where(
            Introduction.status == IntroductionStatus.INTRODUCED
        )
    ):
        found[(jp, ca)] = "introduced"
    return found


def _with_profiles(query: Select[Any]) -> Select[Any]:
    return query.options(
        selectinload(Match.jp_profile).selectinload(Profile.organization),
        selectinload(Match.ca_profile).selectinload(Profile.organization),
        selectinload(Match.field),
    )


def _call_filter(session: Session, call_id: int) -> Any:
    """The pairs eligible for a grant call, as a filter on the loaded rows."""
    from core.services import calls  # the grant calls service builds on this one's queue

    call = calls.get_call(session, call_id)

    def eligible(match: Match) -> bool:
        return match.field.code in call.field_codes and not calls.ineligibility_reasons(
            call, match.jp_profile, match.ca_profile
        )

    return eligible


def review_queue(
    session: Session,
    filters: QueueFilters,
    *,
    sort: str = "score",
    page: int = 1,
    count_limit: int | None = None,
) -> QueuePage:
    """One page of the live pairs matching ``filters``, sorted, with each pair's status.

    Every filter but the grant call is applied in SQL (indexed on run, field and score);
    a call's rules (kinds, staff, excluded terms, related organizations) are checked on
    the candidate rows the other filters leave.

    ``count_limit`` bounds the count: an exact count of a large queue reads every
    matching pair (up to the whole run) on each page view, while counting up to a limit
    stops after that many index entries. Past the limit the page says "more than" and
    paging stops at the limit's last page (the CSV export has them all).
    """
    run = live_run(session)
    if run is None:
        return QueuePage([], 0, 1, 1)
    query = _queue_query(session, run, filters)
    if filters.call_id is not None:
        keep = _call_filter(session, filters.call_id)
        kept = [m for m in session.scalars(_with_profiles(_ordered(query, sort))) if keep(m)]
        total = len(kept)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, page), pages)
        shown = kept[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return QueuePage(_rows(session, shown), total, page, pages)
    total, capped = _count(session, query, count_limit)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    paged = _with_profiles(_ordered(query, sort)).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    rows = _rows(session, list(session.scalars(paged)))
    return QueuePage(rows, total, page, pages, total_is_lower_bound=capped)


def _count(session: Session, query: Select[Any], limit: int | None) -> tuple[int, bool]:
    """How many rows ``query`` has: (exact count, False), or (limit, True) when it has
    more than ``limit``."""
    if limit is None:
        counted = query.with_only_columns(func.count(Match.id)).order_by(None)
        return session.scalar(counted) or 0, False
    first = query.with_only_columns(Match.id).order_by(None).limit(limit + 1).subquery()
    found = session.scalar(select(func.count()).select_from(first)) or 0
    return min(found, limit), found > limit


QUEUE_COLUMNS = (
    "field",
    "score",
    "rank_jp",
    "rank_ca",
    "status",
    "jp_profile_id",
    "jp_title",
    "jp_kind",
    "jp_region",
    "jp_organization_kind",
    "ca_profile_id",
    "ca_title",
    "ca_kind",
    "ca_region",
    "ca_organization_kind",
    "first_proposed_at",
    "terms",
)


def queue_csv(
    session: Session,
    filters: QueueFilters,
    *,
    sort: str = "score",
    exported_by: User | None = None,
) -> Iterator[str]:
    """The whole filtered queue as CSV lines (no names or contact details: the queue shows
    none either), streamed so that a large export never sits in memory at once."""
    run = live_run(session)
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    if exported_by is not None:
        audit.record(
            session,
            actor_id=exported_by.id,
            action="queue.exported",
            subject_type="review_queue",
            details={k: v for k, v in filters.__dict__.items() if v not in (None, "", False)},
        )
    writer.writerow(QUEUE_COLUMNS)
    yield flush()
    if run is None:
        return
    query = _with_profiles(_ordered(_queue_query(session, run, filters), sort))
    keep = _call_filter(session, filters.call_id) if filters.call_id is not None else None
    written = 0
    decided = _decided_statuses(session)
    for match in session.scalars(query.execution_options(yield_per=1000)):
        if keep is not None and not keep(match):
            continue
        jp, ca = match.jp_profile, match.ca_profile
        writer.writerow(
            [
                match.field.code,
                f"{match.score:.4f}",
                match.rank_jp,
                match.rank_ca,
                decided.get((match.jp_profile_id, match.ca_profile_id), "none"),
                jp.id,
                jp.title,
                jp.kind.value,
                jp.region,
                jp.organization.kind.value,
                ca.id,
                ca.title,
                ca.kind.value,
                ca.region,
                ca.organization.kind.value,
                match.first_proposed_at.isoformat(),
                "; ".join(f"{a} / {b}" for a, b in match.terms),
            ]
        )
        written += 1
        if written % 500 == 0:
            yield flush()
        if written >= MAX_EXPORT_ROWS:
            break
    yield flush()


@dataclass
class PairDetail:
    """Everything an officer sees about one pair."""

    jp: Profile
    ca: Profile
    live_matches: list[Match]
    history: list[Match]
    interests: list[Interest]
    decisions: list[PairDecision]
    review: PairReview | None
    introduction: Introduction | None
    conflicted: bool
    terms: list[list[str]] = field(default_factory=list)


def pair_detail(session: Session, *, jp_id: int, ca_id: int, officer: User) -> PairDetail:
    """One pair: both profiles, this run's matches (one per shared field), its history
    across runs, both sides' answers, decisions and introduction. NotFound unless the
    pair was ever proposed."""
    jp = session.get(Profile, jp_id)
    ca = session.get(Profile, ca_id)
    pair = (Match.jp_profile_id == jp_id, Match.ca_profile_id == ca_id)
    history = list(
        session.scalars(
            select(Match)
            .where(*pair)
            .options(selectinload(Match.run), selectinload(Match.field))
            .order_by(Match.run_id.desc(), Match.field_id)
        )
    )
    if jp is None or ca is None or not history:
        raise NotFound(f"no proposed pair {jp_id}-{ca_id}")
    run = live_run(session)
    live = [m for m in history if run is not None and m.run_id == run.id]
    interests = list(
        session.scalars(
            select(Interest)
            .where(
                or_(
                    and_(Interest.profile_id == jp_id, Interest.partner_profile_id == ca_id),
                    and_(Interest.profile_id == ca_id, Interest.partner_profile_id == jp_id),
                )
            )
            .order_by(Interest.updated_at)
        )
    )
    decisions = list(
        session.scalars(
            select(PairDecision)
            .where(PairDecision.jp_profile_id == jp_id, PairDecision.ca_profile_id == ca_id)
            .order_by(PairDecision.created_at, PairDecision.id)
        )
    )
    terms: dict[tuple[str, str], None] = {}
    for match in live or history[:1]:
        for jp_words, ca_words in match.terms:
            terms.setdefault((jp_words, ca_words), None)
    return PairDetail(
        jp=jp,
        ca=ca,
        live_matches=live,
        history=history,
        interests=interests,
        decisions=decisions,
        review=_review(session, jp_id, ca_id),
        introduction=_introduction(session, jp_id, ca_id),
        conflicted=has_conflict(session, officer, jp, ca),
        terms=[list(t) for t in terms],
    )


def _review(session: Session, jp_id: int, ca_id: int) -> PairReview | None:
    return session.scalar(
        select(PairReview).where(
            PairReview.jp_profile_id == jp_id, PairReview.ca_profile_id == ca_id
        )
    )


def _introduction(session: Session, jp_id: int, ca_id: int) -> Introduction | None:
    return session.scalar(
        select(Introduction).where(
            Introduction.jp_profile_id == jp_id, Introduction.ca_profile_id == ca_id
        )
    )


def has_conflict(session: Session, officer: User, jp: Profile, ca: Profile) -> bool:
    """True when the officer declared a conflict with either side's organization."""
    found = session.scalar(
        select(OfficerConflict.id).where(
            OfficerConflict.officer_id == officer.id,
            OfficerConflict.organization_id.in_([jp.organization_id, ca.organization_id]),
        )
    )
    return found is not None


def decide(
    session: Session,
    *,
    officer: User,
    jp_id: int,
    ca_id: int,
    decision: Decision,
    reason_code: ReasonCode | None = None,
    note: str = "",
    links: Links,
) -> PairReview | None:
    """Record a decision on a pair and return its review (None for a plain note).

    Rejecting needs a reason code; an officer with a conflict of interest is refused
    (PermissionDenied); approving a pair whose introduction waits for approval makes it.
    """
    note = note.strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidInput(
            "note too long",
            {"note": Message("Keep the note under %(length)s characters.", length=MAX_NOTE_LENGTH)},
        )
    if decision == Decision.REJECT and reason_code is None:
        raise InvalidInput(
            "reason needed", {"reason_code": Message("Choose a reason for rejecting.")}
        )
    if decision == Decision.NOTE and not note:
        raise InvalidInput("empty note", {"note": Message("Write the note.")})
    jp, ca = session.get(Profile, jp_id), session.get(Profile, ca_id)
    proposed = session.scalar(
        select(Match.id).where(Match.jp_profile_id == jp_id, Match.ca_profile_id == ca_id).limit(1)
    )
    if jp is None or ca is None or proposed is None:
        raise NotFound(f"no proposed pair {jp_id}-{ca_id}")
    if has_conflict(session, officer, jp, ca):
        raise PermissionDenied(
            "you declared a conflict of interest with one of these organizations"
        )
    review = _review(session, jp_id, ca_id)
    previous = review.status.value if review is not None else None
    new_status = _NEW_STATUS.get(decision)
    if new_status is not None:
        if review is None:
            review = PairReview(jp_profile_id=jp_id, ca_profile_id=ca_id, status=new_status)
            session.add(review)
        review.status = new_status
        review.reason_code = reason_code if decision == Decision.REJECT else None
        review.note = note or review.note
        review.updated_at = utcnow()
        review.updated_by = officer.id
    session.add(
        PairDecision(
            jp_profile_id=jp_id,
            ca_profile_id=ca_id,
            officer_id=officer.id,
            decision=decision,
            reason_code=reason_code if decision == Decision.REJECT else None,
            note=note,
            previous_status=previous,
            new_status=new_status.value if new_status is not None else previous,
        )
    )
    session.flush()
    audit.record(
        session,
        actor_id=officer.id,
        action=f"pair.{decision.value}",
        subject_type="pair",
        subject_id=f"{jp_id}:{ca_id}",
        details={
            "previous": previous,
            "new": new_status.value if new_status is not None else previous,
            "reason_code": reason_code.value if reason_code else None,
        },
    )
    if decision == Decision.APPROVE:
        introduction = _introduction(session, jp_id, ca_id)
        if introduction is not None and introduction.status == IntroductionStatus.AWAITING_APPROVAL:
            introduction.status = IntroductionStatus.INTRODUCED
            introduction.introduced_at = utcnow()
            introduction.approved_by = officer.id
            send_introduction_emails(session, introduction, links=links)
    return review


@dataclass(frozen=True)
class BulkResult:
    done: int
    refused: list[tuple[int, int, str]]


def decide_many(
    session: Session,
    *,
    officer: User,
    pairs: Iterable[tuple[int, int]],
    decision: Decision,
    reason_code: ReasonCode | None = None,
    note: str = "",
    links: Links,
) -> BulkResult:
    """The same decision on several pairs. Bad input refuses all (InvalidInput); pairs the
    officer may not decide (conflict) or that do not exist are listed as refused."""
    done, refused = 0, []
    for jp_id, ca_id in dict.fromkeys(pairs):
        try:
            with session.begin_nested():
                decide(
                    session,
                    officer=officer,
                    jp_id=jp_id,
                    ca_id=ca_id,
                    decision=decision,
                    reason_code=reason_code,
                    note=note,
                    links=links,
                )
        except (PermissionDenied, NotFound) as error:
            refused.append((jp_id, ca_id, str(error)))
            continue
        done += 1
    return BulkResult(done, refused)


def declare_conflict(
    session: Session, *, officer: User, organization_id: int, note: str = ""
) -> OfficerConflict:
    """Declare a conflict of interest with an organization (idempotent)."""
    if session.get(Organization, organization_id) is None:
        raise NotFound(f"no organization {organization_id}")
    existing = session.scalar(
        select(OfficerConflict).where(
            OfficerConflict.officer_id == officer.id,
            OfficerConflict.organization_id == organization_id,
        )
    )
    if existing is not None:
        return existing
    conflict = OfficerConflict(
        officer_id=officer.id, organization_id=organization_id, note=note.strip()[:2000]
    )
    session.add(conflict)
    session.flush()
    audit.record(
        session,
        actor_id=officer.id,
        action="conflict.declared",
        subject_type="organization",
        subject_id=organization_id,
    )
    return conflict


def withdraw_conflict(session: Session, *, officer: User, organization_id: int) -> None:
    conflict = session.scalar(
        select(OfficerConflict).where(
            OfficerConflict.officer_id == officer.id,
            OfficerConflict.organization_id == organization_id,
        )
    )
    if conflict is None:
        return
    session.delete(conflict)
    audit.record(
        session,
        actor_id=officer.id,
        action="conflict.withdrawn",
        subject_type="organization",
        subject_id=organization_id,
    )


def conflicts_of(session: Session, officer: User) -> list[OfficerConflict]:
    query = (
        select(OfficerConflict)
        .where(OfficerConflict.officer_id == officer.id)
        .options(selectinload(OfficerConflict.organization))
        .order_by(OfficerConflict.created_at)
    )
    return list(session.scalars(query))


def search_organizations(session: Session, text: str, *, limit: int = 20) -> list[Organization]:
    """Organizations whose name contains ``text`` (for declaring a conflict)."""
    text = text.strip()
    if not text:
        return []
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    query = (
        select(Organization)
        .where(Organization.name.ilike(pattern, escape="\\"))
        .order_by(Organization.name)
        .limit(limit)
    )
    return list(session.scalars(query))
