"""Figures for the officers' statistics page: profiles and the pair funnel per MOC field,
country and kind, and how fresh the live pairs are.

Every figure comes from a GROUP BY in the database. What people did about pairs
(interests, introductions, reviews) is first folded into one row per pair, and the live
pairs are joined to that once: a handful of aggregate queries however many pairs are live
(about 0.2 s on PostgreSQL with 200,000 live pairs).

Definitions:

- profiles count only once their owner consented to cross-border sharing (consent_at
  set), split into open and paused; those not yet consented are counted apart;
- proposed: pairs of the live run in the field (retained ones included, also counted
  apart: they are the introduced or approved pairs a rematch no longer proposes);
- interested: proposed pairs where at least one side answered "interested";
  both interested: where both did;
- introduced: proposed pairs with an introduction made (awaiting approval counted apart);
- approved, rejected: proposed pairs with that officer review.

A pair proposed in two fields counts in each; the totals count it once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, and_, case, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from core.models import (
    Availability,
    Country,
    Field,
    Interest,
    InterestState,
    Introduction,
    IntroductionStatus,
    Match,
    MatchRun,
    PairReview,
    Profile,
    ProfileKind,
    RematchRequest,
    RequestStatus,
    ReviewStatus,
    RunKind,
    RunStatus,
    profile_fields,
    utcnow,
)
from core.services.fields import list_fields
from core.services.matching import live_run

# Requests not yet applied to the live run (failed ones are counted apart).
WAITING = (RequestStatus.PENDING, RequestStatus.SENT)


@dataclass(frozen=True)
class ProfileCounts:
    """Profiles of one group: consented ones (open or paused) and those not yet consented."""

    open: int = 0
    paused: int = 0
    not_consented: int = 0

    @property
    def consented(self) -> int:
        return self.open + self.paused

    def __add__(self, other: ProfileCounts) -> ProfileCounts:
        return ProfileCounts(
            self.open + other.open,
            self.paused + other.paused,
            self.not_consented + other.not_consented,
        )


@dataclass(frozen=True)
class PairFunnel:
    """Live pairs of one group and how far they went (see the module's definitions)."""

    proposed: int = 0
    retained: int = 0
    interested: int = 0
    both_interested: int = 0
    awaiting_introduction: int = 0
    introduced: int = 0
    approved: int = 0
    rejected: int = 0

    def __add__(self, other: PairFunnel) -> PairFunnel:
        return PairFunnel(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(PairFunnel))
        )

    def share(self, stage: str) -> float:
        """``stage`` (a field name) as a share of the proposed pairs, 0 without any."""
        return getattr(self, stage) / self.proposed if self.proposed else 0.0


Group = tuple[Country, ProfileKind]
KindPair = tuple[ProfileKind, ProfileKind]  # (Japanese side, Canadian side)


@dataclass(frozen=True)
class FieldStats:
    """One MOC field: its profiles by country and kind, and its live pairs' funnel."""

    field: Field
    profiles: dict[Group, ProfileCounts]
    pairs: PairFunnel
    pairs_by_kind: dict[KindPair, PairFunnel]

    def profiles_of(self, country: Country) -> ProfileCounts:
        """The field's profiles of one country, every kind together."""
        return _sum(c for (where, _), c in self.profiles.items() if where == country)


@dataclass(frozen=True)
class Freshness:
    """How fresh the live pairs are."""

    now: datetime
    live_run_id: int | None = None
    live_finished_at: datetime | None = None
    live_duration_seconds: float | None = None
    live_pair_count: int | None = None
    last_incremental_at: datetime | None = None
    full_run_in_progress_id: int | None = None
    pending_requests: int = 0
    oldest_pending_at: datetime | None = None
    failed_requests: int = 0

    @property
    def live_age_seconds(self) -> float | None:
        """Seconds since the live run finished."""
        if self.live_finished_at is None:
            return None
        return max(0.0, (self.now - self.live_finished_at).total_seconds())


@dataclass(frozen=True)
class DashboardStats:
    """Everything the statistics page shows."""

    fields: list[FieldStats]
    profiles: dict[Group, ProfileCounts]  # each profile once, whatever its fields
    pairs: PairFunnel  # each pair (Japanese, Canadian) once, whatever its fields
    freshness: Freshness

    def profiles_of(self, country: Country) -> ProfileCounts:
        """Every profile of one country, each once."""
        return _sum(c for (where, _), c in self.profiles.items() if where == country)


def _sum(counts: Iterable[ProfileCounts]) -> ProfileCounts:
    total = ProfileCounts()
    for count in counts:
        total = total + count
    return total


def dashboard_stats(session: Session, *, now: datetime | None = None) -> DashboardStats:
    """The statistics page's figures, read in a few aggregate queries. Reads only."""
    now = now or utcnow()
    live = live_run(session)
    by_field = _profile_counts(session, per_field=True)
    overall = _profile_counts(session, per_field=False)
    funnels: dict[tuple[int, ProfileKind, ProfileKind], PairFunnel] = {}
    total = PairFunnel()
    if live is not None:
        funnels = _funnels_by_field_and_kind(session, live.id)
        total = _distinct_pair_funnel(session, live.id)
    stats: list[FieldStats] = []
    for f in list_fields(session):
        by_kind = {
            (jp_kind, ca_kind): funnel
            for (fid, jp_kind, ca_kind), funnel in funnels.items()
            if fid == f.id
        }
        pairs = PairFunnel()
        for funnel in by_kind.values():
            pairs = pairs + funnel
        stats.append(
            FieldStats(
                field=f,
                profiles={
                    (country, kind): counts
                    for (fid, country, kind), counts in by_field.items()
                    if fid == f.id
                },
                pairs=pairs,
                pairs_by_kind=by_kind,
            )
        )
    return DashboardStats(
        fields=stats,
        profiles={(country, kind): c for (_, country, kind), c in overall.items()},
        pairs=total,
        freshness=freshness(session, live=live, now=now),
    )


def _profile_counts(
    session: Session, *, per_field: bool
) -> dict[tuple[int, Country, ProfileKind], ProfileCounts]:
    """Profiles by (field id, country, kind); field id 0 when not per field."""
    consented = Profile.consent_at.is_not(None)
    columns: list[Any] = [Profile.country, Profile.kind]
    query: Select[Any]
    if per_field:
        columns.insert(0, profile_fields.c.field_id)
        query = select(*columns).join(profile_fields, profile_fields.c.profile_id == Profile.id)
    else:
        query = select(literal(0), *columns).select_from(Profile)
    query = query.add_columns(
        func.count(case((and_(consented, Profile.availability == Availability.OPEN), 1))),
        func.count(case((and_(consented, Profile.availability == Availability.PAUSED), 1))),
        func.count(case((Profile.consent_at.is_(None), 1))),
    ).group_by(*columns)
    return {
        (int(fid), Country(country), ProfileKind(kind)): ProfileCounts(
            int(open_), int(paused), int(waiting)
        )
        for fid, country, kind, open_, paused, waiting in session.execute(query)
    }


def _signals() -> Subquery:
    """One row per pair (jp_id, ca_id) that anyone acted on: 0/1 flags for each side's
    interest, the introduction's state and the officers' review.

    Built from the interest, introduction and review tables (small next to the pairs), so
    the pairs are then joined to it once, on one key, instead of to four tables.
    """
    owner = aliased(Profile)
    one, zero = literal(1), literal(0)

    def flag(condition: ColumnElement[bool]) -> Any:
        return case((condition, 1), else_=0)

    def interests(country: Country) -> Select[*tuple[Any, ...]]:
        own, partner = Interest.profile_id, Interest.partner_profile_id
        jp_id, ca_id = (own, partner) if country == Country.JP else (partner, own)
        return (
            select(
                jp_id.label("jp_id"),
                ca_id.label("ca_id"),
                (one if country == Country.JP else zero).label("jp_interested"),
                (one if country == Country.CA else zero).label("ca_interested"),
                zero.label("awaiting"),
                zero.label("introduced"),
                zero.label("approved"),
                zero.label("rejected"),
            )
            .join(owner, owner.id == Interest.profile_id)
            .where(Interest.state == InterestState.INTERESTED, owner.country == country)
        )

    introductions = select(
        Introduction.jp_profile_id,
        Introduction.ca_profile_id,
        zero,
        zero,
        flag(Introduction.status == IntroductionStatus.AWAITING_APPROVAL),
        flag(Introduction.status == IntroductionStatus.INTRODUCED),
        zero,
        zero,
    )
    reviews = select(
        PairReview.jp_profile_id,
        PairReview.ca_profile_id,
        zero,
        zero,
        zero,
        zero,
        flag(PairReview.status == ReviewStatus.APPROVED),
        flag(PairReview.status == ReviewStatus.REJECTED),
    ).where(PairReview.status.in_((ReviewStatus.APPROVED, ReviewStatus.REJECTED)))
    rows = union_all(
        interests(Country.JP), interests(Country.CA), introductions, reviews
    ).subquery()
    flags = [c for c in rows.c if c.name not in ("jp_id", "ca_id")]
    return (
        select(rows.c.jp_id, rows.c.ca_id, *(func.max(c).label(c.name) for c in flags))
        .group_by(rows.c.jp_id, rows.c.ca_id)
        .subquery()
    )


def _funnel_aggregates(signals: Subquery, retained: Any) -> list[Any]:
    """The PairFunnel's columns, in order, over pairs left-joined to ``signals``."""

    def counted(condition: ColumnElement[bool]) -> Any:
        return func.count(case((condition, 1)))

    return [
        func.count(),
        counted(retained),
        counted((signals.c.jp_interested == 1) | (signals.c.ca_interested == 1)),
        counted((signals.c.jp_interested == 1) & (signals.c.ca_interested == 1)),
        counted(signals.c.awaiting == 1),
        counted(signals.c.introduced == 1),
        counted(signals.c.approved == 1),
        counted(signals.c.rejected == 1),
    ]


def _funnels_by_field_and_kind(
    session: Session, run_id: int
) -> dict[tuple[int, ProfileKind, ProfileKind], PairFunnel]:
    jp, ca = aliased(Profile), aliased(Profile)
    signals = _signals()
    query = (
        select(Match.field_id, jp.kind, ca.kind, *_funnel_aggregates(signals, Match.retained))
        .select_from(Match)
        .join(jp, jp.id == Match.jp_profile_id)
        .join(ca, ca.id == Match.ca_profile_id)
        .outerjoin(
            signals,
            and_(signals.c.jp_id == Match.jp_profile_id, signals.c.ca_id == Match.ca_profile_id),
        )
        .where(Match.run_id == run_id)
        .group_by(Match.field_id, jp.kind, ca.kind)
    )
    return {
        (int(fid), ProfileKind(jp_kind), ProfileKind(ca_kind)): PairFunnel(
            *(int(v) for v in values)
        )
        for fid, jp_kind, ca_kind, *values in session.execute(query)
    }


def _distinct_pair_funnel(session: Session, run_id: int) -> PairFunnel:
    pairs = (
        select(
            Match.jp_profile_id.label("jp_id"),
            Match.ca_profile_id.label("ca_id"),
            # Retained in every field it is in: no field proposes it any more.
            func.min(case((Match.retained.is_(True), 1), else_=0)).label("retained"),
        )
        .where(Match.run_id == run_id)
        .group_by(Match.jp_profile_id, Match.ca_profile_id)
        .subquery()
    )
    signals = _signals()
    query = (
        select(*_funnel_aggregates(signals, pairs.c.retained == 1))
        .select_from(pairs)
        .outerjoin(
            signals, and_(signals.c.jp_id == pairs.c.jp_id, signals.c.ca_id == pairs.c.ca_id)
        )
    )
    return PairFunnel(*(int(v) for v in session.execute(query).one()))


def freshness(session: Session, *, live: MatchRun | None, now: datetime) -> Freshness:
    """The live run's age and duration, later incremental rematches, waiting requests."""
    in_progress = session.scalar(
        select(MatchRun.id).where(
            MatchRun.kind == RunKind.FULL,
            MatchRun.status.in_((RunStatus.PENDING, RunStatus.RUNNING)),
        )
    )
    waiting, oldest = session.execute(
        select(func.count(), func.min(RematchRequest.created_at)).where(
            RematchRequest.status.in_(WAITING)
        )
    ).one()
    failed = session.scalar(
        select(func.count())
        .select_from(RematchRequest)
        .where(RematchRequest.status == RequestStatus.FAILED)
    )
    if live is None:
        return Freshness(
            now=now,
            full_run_in_progress_id=in_progress,
            pending_requests=int(waiting),
            oldest_pending_at=oldest,
            failed_requests=int(failed or 0),
        )
    last_incremental = session.scalar(
        select(func.max(MatchRun.finished_at)).where(
            MatchRun.kind == RunKind.INCREMENTAL,
            MatchRun.status == RunStatus.SUCCEEDED,
            MatchRun.finished_at >= live.finished_at,
        )
    )
    return Freshness(
        now=now,
        live_run_id=live.id,
        live_finished_at=live.finished_at,
        live_duration_seconds=live.duration_seconds,
        live_pair_count=live.pair_count,
        last_incremental_at=last_incremental,
        full_run_in_progress_id=in_progress,
        pending_requests=int(waiting),
        oldest_pending_at=oldest,
        failed_requests=int(failed or 0),
    )
