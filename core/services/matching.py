"""Matching runs: full rematches, incremental rematches of one profile, and reading pairs."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from core.errors import NotFound
from core.models import (
    Availability,
    Country,
    Field,
    Introduction,
    Match,
    MatcherModel,
    MatchRun,
    PairReview,
    Profile,
    RematchRequest,
    RequestStatus,
    ReviewStatus,
    RunKind,
    RunStatus,
    utcnow,
)
from core.services import outbox
from core.services.fields import get_field
from matcher import ProfileDoc, TfidfMatcher
from matcher.persist import IncompatibleModel, loads
from matcher.tfidf import rank_pairs

log = logging.getLogger(__name__)
# The live run's fitted matcher: a run's model never changes, so a process keeps it.
_models: dict[tuple[int, str], TfidfMatcher] = {}


def to_doc(profile: Profile) -> ProfileDoc:
    """The matcher's view of a profile: ids, country, kind, fields and texts."""
    texts = [profile.title, profile.summary]
    if profile.keywords:
        texts.append(", ".join(profile.keywords))
    return ProfileDoc(
        id=profile.id,
        country=profile.country.value,
        kind=profile.kind.value,
        fields=tuple(f.code for f in profile.fields),
        texts=tuple(texts),
        lang=profile.language.value,
    )


def matchable_profiles(session: Session) -> list[Profile]:
    """Open profiles whose owners consented to cross-border sharing, by id."""
    query = (
        select(Profile)
        .where(Profile.availability == Availability.OPEN, Profile.consent_at.is_not(None))
        .options(selectinload(Profile.fields))
        .order_by(Profile.id)
    )
    return list(session.scalars(query))


def live_run(session: Session) -> MatchRun | None:
    """The run whose pairs people currently see, if any."""
    return session.scalar(select(MatchRun).where(MatchRun.is_live.is_(True)))


def latest_runs(session: Session, *, limit: int = 10) -> list[MatchRun]:
    """The most recent runs, newest first."""
    return list(session.scalars(select(MatchRun).order_by(MatchRun.id.desc()).limit(limit)))


def stored_matcher(session: Session, run: MatchRun) -> TfidfMatcher | None:
    """The fitted matcher stored with ``run`` (cached per process), or None if it has
    none or it was saved by an incompatible version."""
    stamp = session.scalar(select(MatcherModel.created_at).where(MatcherModel.run_id == run.id))
    if stamp is None:
        return None
    # Keyed by run and save time: a rolled-back run's id can come back (SQLite).
    key = (run.id, stamp.isoformat())
    if key not in _models:
        stored = session.get(MatcherModel, run.id)
        assert stored is not None
        try:
            fitted = loads(stored.data)
        except IncompatibleModel as error:
            log.warning("run %s: stored matcher unusable (%s)", run.id, error)
            return None
        if len(_models) >= 2:  # the live run's and the one being computed
            _models.pop(next(iter(_models)))
        _models[key] = fitted
    return _models[key]


def rematch_profile(session: Session, *, profile_id: int, top_k: int) -> MatchRun | None:
    """Replace one profile's pairs in the live run. Safe to run twice.

    Returns the incremental run record, or None when no run is live yet (the first full
    run will include the profile).
    """
    live = live_run(session)
    if live is None:
        return None
    record = MatchRun(
        kind=RunKind.INCREMENTAL,
        status=RunStatus.RUNNING,
        started_at=utcnow(),
        parameters={"profile_id": profile_id, "top_k": top_k, "live_run_id": live.id},
    )
    session.add(record)
    touched: set[tuple[int, str, int]] = set()  # (field id, side, profile id)

    old = session.scalars(
        select(Match).where(
            Match.run_id == live.id,
            or_(Match.jp_profile_id == profile_id, Match.ca_profile_id == profile_id),
        )
    ).all()
    first_proposed = {
        (m.field_id, m.jp_profile_id, m.ca_profile_id): m.first_proposed_at for m in old
    }
    decided = decided_pairs(session, [(m.jp_profile_id, m.ca_profile_id) for m in old])
    kept_candidates = [
        _MatchCopy.of(m) for m in old if (m.jp_profile_id, m.ca_profile_id) in decided
    ]
    for match in old:
        touched.add((match.field_id, "jp", match.jp_profile_id))
        touched.add((match.field_id, "ca", match.ca_profile_id))
        session.delete(match)
    session.flush()

    profile = session.get(Profile, profile_id)
    inserted = 0
    if profile is not None and profile.is_matchable:
        profiles = matchable_profiles(session)
        docs = [to_doc(p) for p in profiles]
        matcher = live_matcher(session, live, docs, top_k=top_k)
        record.vocabulary_size = matcher.vocabulary_size_
        doc = to_doc(profile)
        own_side = "jp" if profile.country == Country.JP else "ca"
        other_side = "ca" if own_side == "jp" else "jp"
        for field in profile.fields:
            candidates = [d for d in docs if d.country != doc.country and field.code in d.fields]
            thresholds = _kth_scores(session, live.id, field.id, other_side, top_k)
            for rank, (other_id, score, terms) in enumerate(
                matcher.score_against(doc, candidates), start=1
            ):
                if rank > top_k and score <= thresholds.get(other_id, 0.0):
                    continue
                jp_id, ca_id = (
                    (profile_id, other_id) if own_side == "jp" else (other_id, profile_id)
                )
                session.add(
                    Match(
                        run_id=live.id,
                        field_id=field.id,
                        jp_profile_id=jp_id,
                        ca_profile_id=ca_id,
                        score=round(score, 6),
                        rank_jp=0,
                        rank_ca=0,
                        terms=[list(term) for term in terms],
                        first_proposed_at=first_proposed.get((field.id, jp_id, ca_id), utcnow()),
                    )
                )
                inserted += 1
                touched.add((field.id, own_side, profile_id))
                touched.add((field.id, other_side, other_id))
        session.flush()
    _keep_decided(session, live.id, kept_candidates)
    _rerank(session, live.id, touched, top_k)
    live.pair_count = session.scalar(
        select(func.count()).select_from(Match).where(Match.run_id == live.id)
    )
    record.pair_count = inserted
    record.status = RunStatus.SUCCEEDED
    record.finished_at = utcnow()
    return record


def decided_pairs(session: Session, pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
    """Those of ``pairs`` (Japanese id, Canadian id) that an officer approved or that were
    introduced: a rematch never silently drops them."""
    if not pairs:
        return set()
    jp_ids = {jp for jp, _ in pairs}
    wanted = set(pairs)
    approved = session.execute(
        select(PairReview.jp_profile_id, PairReview.ca_profile_id).where(
            PairReview.jp_profile_id.in_(jp_ids), PairReview.status == ReviewStatus.APPROVED
        )
    )
    introduced = session.execute(
        select(Introduction.jp_profile_id, Introduction.ca_profile_id).where(
            Introduction.jp_profile_id.in_(jp_ids)
        )
    )
    found = {(jp, ca) for jp, ca in approved} | {(jp, ca) for jp, ca in introduced}
    return found & wanted


@dataclass(frozen=True)
class _MatchCopy:
    field_id: int
    jp_profile_id: int
    ca_profile_id: int
    score: float
    rank_jp: int
    rank_ca: int
    terms: list[list[str]]
    first_proposed_at: datetime

    @classmethod
    def of(cls, match: Match) -> _MatchCopy:
        return cls(
            match.field_id,
            match.jp_profile_id,
            match.ca_profile_id,
            match.score,
            match.rank_jp,
            match.rank_ca,
            [list(t) for t in match.terms],
            match.first_proposed_at,
        )


def _keep_decided(session: Session, run_id: int, copies: Sequence[_MatchCopy]) -> None:
    """Put back decided pairs the rematch no longer proposes, marked as retained, while
    both profiles are still matchable and in that field (a pause, a withdrawn consent or
    a field left is the owner's choice, which a decision does not override)."""
    for copy in copies:
        present = session.scalar(
            select(Match.id).where(
                Match.run_id == run_id,
                Match.field_id == copy.field_id,
                Match.jp_profile_id == copy.jp_profile_id,
                Match.ca_profile_id == copy.ca_profile_id,
            )
        )
        if present is not None:
            continue
        both = [session.get(Profile, copy.jp_profile_id), session.get(Profile, copy.ca_profile_id)]
        if not all(
            p is not None and p.is_matchable and any(f.id == copy.field_id for f in p.fields)
            for p in both
        ):
            continue
        session.add(
            Match(
                run_id=run_id,
                field_id=copy.field_id,
                jp_profile_id=copy.jp_profile_id,
                ca_profile_id=copy.ca_profile_id,
                score=copy.score,
                rank_jp=copy.rank_jp,
                rank_ca=copy.rank_ca,
                terms=copy.terms,
                first_proposed_at=copy.first_proposed_at,
                retained=True,
            )
        )
    session.flush()


def live_matcher(
    session: Session, live: MatchRun, docs: Sequence[ProfileDoc], *, top_k: int
) -> TfidfMatcher:
    """The live run's fitted matcher; refitted on ``docs`` if it is missing or was saved by
    an incompatible version (the next full run stores a fresh one)."""
    return stored_matcher(session, live) or TfidfMatcher(top_k=top_k).fit(docs)


def _kth_scores(
    session: Session, run_id: int, field_id: int, side: str, top_k: int
) -> dict[int, float]:
    """For each profile on ``side``: the score of its k-th stored partner (0 if fewer)."""
    column = Match.jp_profile_id if side == "jp" else Match.ca_profile_id
    scores: dict[int, list[float]] = defaultdict(list)
    for owner, score in session.execute(
        select(column, Match.score).where(Match.run_id == run_id, Match.field_id == field_id)
    ):
        scores[owner].append(score)
    return {
        owner: sorted(values, reverse=True)[top_k - 1] if len(values) >= top_k else 0.0
        for owner, values in scores.items()
    }


def _rerank(session: Session, run_id: int, touched: set[tuple[int, str, int]], top_k: int) -> None:
    """Recompute the ranks of touched profiles' pairs; drop pairs outside both top-ks."""
    while touched:
        by_field: dict[int, set[tuple[str, int]]] = defaultdict(set)
        for field_id, side, owner in touched:
            by_field[field_id].add((side, owner))
        touched = set()
        for field_id, owners in by_field.items():
            jp_ids = [owner for side, owner in owners if side == "jp"]
            ca_ids = [owner for side, owner in owners if side == "ca"]
            matches = session.scalars(
                select(Match).where(
                    Match.run_id == run_id,
                    Match.field_id == field_id,
                    or_(Match.jp_profile_id.in_(jp_ids), Match.ca_profile_id.in_(ca_ids)),
                )
            ).all()
            # Ranks from each touched side, over all of that profile's stored pairs.
            neighbours = _pairs_of(session, run_id, field_id, jp_ids, ca_ids)
            ranks = rank_pairs(neighbours)
            for match in matches:
                pair = (match.jp_profile_id, match.ca_profile_id)
                rank_jp, rank_ca = ranks[pair]
                if match.jp_profile_id in jp_ids:
                    match.rank_jp = rank_jp
                if match.ca_profile_id in ca_ids:
                    match.rank_ca = rank_ca
            session.flush()
            beyond = [m for m in matches if m.rank_jp > top_k and m.rank_ca > top_k]
            keep = decided_pairs(session, [(m.jp_profile_id, m.ca_profile_id) for m in beyond])
            for match in beyond:
                if (match.jp_profile_id, match.ca_profile_id) in keep:
                    match.retained = True  # approved or introduced: kept, marked
                    continue
                touched.add((field_id, "jp", match.jp_profile_id))
                touched.add((field_id, "ca", match.ca_profile_id))
                session.delete(match)
            session.flush()


def _pairs_of(
    session: Session, run_id: int, field_id: int, jp_ids: Sequence[int], ca_ids: Sequence[int]
) -> dict[tuple[int, int], float]:
    rows = session.execute(
        select(Match.jp_profile_id, Match.ca_profile_id, Match.score).where(
            Match.run_id == run_id,
            Match.field_id == field_id,
            or_(Match.jp_profile_id.in_(jp_ids), Match.ca_profile_id.in_(ca_ids)),
        )
    )
    return {(jp, ca): score for jp, ca, score in rows}


def process_rematch_request(session: Session, *, request_id: int, top_k: int) -> bool:
    """Carry out one outbox request. Safe to run twice: a done request is skipped.

    Returns True when the request was carried out now.
    """
    request = session.get(RematchRequest, request_id)
    if request is None:
        raise NotFound(f"no rematch request {request_id}")
    if request.status == RequestStatus.DONE:
        return False
    request.attempts += 1
    rematch_profile(session, profile_id=request.profile_id, top_k=top_k)
    outbox.mark_done(session, request)
    return True


def matches_for_profile(session: Session, profile: Profile) -> list[Match]:
    """The profile's live pairs, by field order then this side's rank."""
    live = live_run(session)
    if live is None:
        return []
    own_column, rank = (
        (Match.jp_profile_id, Match.rank_jp)
        if profile.country == Country.JP
        else (Match.ca_profile_id, Match.rank_ca)
    )
    query = (
        select(Match)
        .join(Field, Field.id == Match.field_id)
        .where(Match.run_id == live.id, own_column == profile.id)
        .options(
            selectinload(Match.jp_profile).selectinload(Profile.fields),
            selectinload(Match.ca_profile).selectinload(Profile.fields),
            selectinload(Match.field),
        )
        .order_by(Field.position, rank, Match.id)
    )
    return list(session.scalars(query))


def pairs_for_field(
    session: Session, *, field_code: str, limit: int = 50, offset: int = 0
) -> tuple[list[Match], int]:
    """One page of the live pairs in a field, best first, and the total count."""
    field = get_field(session, field_code)
    live = live_run(session)
    if live is None:
        return [], 0
    where = (Match.run_id == live.id, Match.field_id == field.id)
    total = session.scalar(select(func.count()).select_from(Match).where(*where)) or 0
    query = (
        select(Match)
        .where(*where)
        .options(
            selectinload(Match.jp_profile).selectinload(Profile.organization),
            selectinload(Match.ca_profile).selectinload(Profile.organization),
        )
        .order_by(Match.score.desc(), Match.jp_profile_id, Match.ca_profile_id)
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(query)), total


def pair_counts_by_field(session: Session) -> dict[int, int]:
    """Number of live pairs per field id."""
    live = live_run(session)
    if live is None:
        return {}
    rows = session.execute(
        select(Match.field_id, func.count()).where(Match.run_id == live.id).group_by(Match.field_id)
    )
    return {row[0]: row[1] for row in rows}
