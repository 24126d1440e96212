"""Full rematches in blocks, so that several workers can share one.

A run is planned (vocabulary fitted and stored, blocks listed), its blocks are scored in
any order and on any machine (each writes its candidates in one transaction, a block
written twice leaves one copy), and when every block is done one transaction turns the
candidates into the run's pairs and makes it live. Until then readers see the previous
live run; a block that fails for good fails the run and leaves the previous one live.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, aliased

from core.errors import Conflict, NotFound
from core.models import (
    Availability,
    BlockCandidate,
    BlockStatus,
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
    RunBlock,
    RunKind,
    RunStatus,
    profile_fields,
    utcnow,
)
from core.services.fields import list_fields
from core.services.matching import live_run, matchable_profiles, stored_matcher, to_doc
from matcher import ProfileDoc, TfidfMatcher
from matcher.persist import dumps
from matcher.tfidf import rank_pairs

log = logging.getLogger(__name__)
DEFAULT_BLOCK_SIZE = 2048
IN_PROGRESS = (RunStatus.PENDING, RunStatus.RUNNING)


def full_run_in_progress(session: Session) -> MatchRun | None:
    """The full run being computed now, if any."""
    return session.scalar(
        select(MatchRun).where(MatchRun.kind == RunKind.FULL, MatchRun.status.in_(IN_PROGRESS))
    )


def plan_full_run(
    session: Session, *, top_k: int, block_size: int = DEFAULT_BLOCK_SIZE
) -> tuple[MatchRun, list[int]]:
    """Fit and store the vocabulary on every matchable profile and list the blocks.

    Returns the run and its block ids. Conflict if a full run is already in progress
    (a unique partial index makes sure of it even under concurrency).
    """
    running = full_run_in_progress(session)
    if running is not None:
        raise Conflict(f"full rematch run {running.id} is already in progress")
    run = MatchRun(
        kind=RunKind.FULL,
        status=RunStatus.RUNNING,
        started_at=utcnow(),
        parameters={"top_k": top_k, "block_size": block_size},
    )
    session.add(run)
    session.flush()
    docs = [to_doc(p) for p in matchable_profiles(session)]
    if docs:
        matcher = TfidfMatcher(top_k=top_k).fit(docs)
        run.parameters = {**matcher.get_params(), "block_size": block_size}
        run.vocabulary_size = matcher.vocabulary_size_
        session.add(MatcherModel(run_id=run.id, data=dumps(matcher)))
    blocks: list[RunBlock] = []
    for field in list_fields(session):
        japanese = [d.id for d in docs if d.country == Country.JP.value and field.code in d.fields]
        has_partners = any(d.country == Country.CA.value and field.code in d.fields for d in docs)
        if not japanese or not has_partners:
            continue
        for start in range(0, len(japanese), block_size):
            chunk = japanese[start : start + block_size]
            blocks.append(
                RunBlock(run_id=run.id, field_id=field.id, first_id=chunk[0], last_id=chunk[-1])
            )
    session.add_all(blocks)
    run.blocks_total = len(blocks)
    session.flush()
    return run, [b.id for b in blocks]


def _field_docs(session: Session, field: Field) -> tuple[list[ProfileDoc], list[ProfileDoc]]:
    docs = [to_doc(p) for p in matchable_profiles(session) if field in p.fields]
    japanese = [d for d in docs if d.country == Country.JP.value]
    canadian = [d for d in docs if d.country == Country.CA.value]
    return japanese, canadian


def score_block(session: Session, *, block_id: int) -> tuple[int, bool]:
    """Score one block and store its candidates. Safe to run twice (a done block is
    skipped; the block row is locked while it is scored).

    Returns (run id, whether every block of the run is now done).
    """
    block = session.get(RunBlock, block_id, with_for_update=True)
    if block is None:
        raise NotFound(f"no run block {block_id}")
    run = session.get(MatchRun, block.run_id)
    assert run is not None
    if block.status != BlockStatus.PENDING or run.status != RunStatus.RUNNING:
        return run.id, False
    block.attempts += 1
    field = session.get(Field, block.field_id)
    assert field is not None
    matcher = stored_matcher(session, run)
    japanese, canadian = _field_docs(session, field)
    japanese = [d for d in japanese if block.first_id <= d.id <= block.last_id]
    rows: list[dict[str, Any]] = []
    if matcher is not None and japanese and canadian:
        docs = japanese + canadian
        problem = matcher.field_problem(
            docs,
            range(len(japanese)),
            range(len(japanese), len(docs)),
            matcher.transform(docs),
        )
        result = problem.block(0, len(japanese))
        common = {"run_id": run.id, "block_id": block.id, "field_id": field.id}

        def candidate(jp_id: int, ca_id: int, score: float, is_row: bool) -> dict[str, Any]:
            return common | {
                "jp_profile_id": jp_id,
                "ca_profile_id": ca_id,
                "score": score,
                "is_row": is_row,
            }

        # Each Japanese profile's top k, then each Canadian profile's best k in this block.
        for i, doc in enumerate(japanese):
            for j, score in zip(result.row_index[i], result.row_score[i], strict=True):
                if j >= 0:
                    rows.append(candidate(doc.id, canadian[int(j)].id, float(score), True))
        for j, doc in enumerate(canadian):
            for i, score in zip(result.col_index[j], result.col_score[j], strict=True):
                if i >= 0:
                    rows.append(candidate(japanese[int(i)].id, doc.id, float(score), False))
    session.execute(delete(BlockCandidate).where(BlockCandidate.block_id == block.id))
    if rows:
        session.execute(insert(BlockCandidate), rows)
    block.status = BlockStatus.DONE
    block.finished_at = utcnow()
    session.execute(
        update(MatchRun).where(MatchRun.id == run.id).values(blocks_done=MatchRun.blocks_done + 1)
    )
    session.flush()
    session.refresh(run)
    return run.id, run.blocks_done >= run.blocks_total


def fail_block(session: Session, *, block_id: int, error: str) -> None:
    """A block failed for good: fail its run; the previous live run stays live."""
    block = session.get(RunBlock, block_id)
    if block is None:
        return
    block.status = BlockStatus.FAILED
    block.error = error
    run = session.get(MatchRun, block.run_id)
    if run is not None and run.status in IN_PROGRESS:
        run.status = RunStatus.FAILED
        run.error = f"block {block_id}: {error}"
        run.finished_at = utcnow()
    session.execute(delete(BlockCandidate).where(BlockCandidate.run_id == block.run_id))


def _first_proposed(
    session: Session, run: MatchRun | None, field_id: int
) -> dict[tuple[int, int], datetime]:
    """When each pair of ``run`` in this field was first proposed (empty without a run)."""
    if run is None:
        return {}
    rows = session.execute(
        select(Match.jp_profile_id, Match.ca_profile_id, Match.first_proposed_at).where(
            Match.run_id == run.id, Match.field_id == field_id
        )
    )
    return {(jp_id, ca_id): first for jp_id, ca_id, first in rows}


def finish_run(session: Session, *, run_id: int) -> MatchRun | None:
    """Turn the candidates of a run whose blocks are all done into its pairs and make it
    live. Safe to run twice; returns None while blocks are still pending."""
    run = session.get(MatchRun, run_id, with_for_update=True)
    if run is None:
        raise NotFound(f"no run {run_id}")
    if run.status != RunStatus.RUNNING:
        return run
    pending = session.scalar(
        select(func.count())
        .select_from(RunBlock)
        .where(RunBlock.run_id == run.id, RunBlock.status != BlockStatus.DONE)
    )
    if pending:
        return None
    top_k = int(run.parameters.get("top_k", 20))
    matcher = stored_matcher(session, run)
    profiles = {p.id: p for p in matchable_profiles(session)}
    previous = live_run(session)
    pair_count = 0
    if matcher is not None:
        for field in list_fields(session):
            scores = _field_pairs(session, run.id, field.id, top_k, set(profiles))
            if not scores:
                continue
            first_proposed = _first_proposed(session, previous, field.id)
            ranks = rank_pairs(scores)
            ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
            docs = {pid: to_doc(profiles[pid]) for pair, _ in ordered for pid in pair}
            explained = matcher.explain_many([(docs[a], docs[b]) for (a, b), _ in ordered])
            now = utcnow()
            session.execute(
                insert(Match),
                [
                    {
                        "run_id": run.id,
                        "field_id": field.id,
                        "jp_profile_id": jp_id,
                        "ca_profile_id": ca_id,
                        "score": round(score, 6),
                        "rank_jp": ranks[(jp_id, ca_id)][0],
                        "rank_ca": ranks[(jp_id, ca_id)][1],
                        "terms": [list(term) for term in terms],
                        "created_at": now,
                        "first_proposed_at": first_proposed.get((jp_id, ca_id), now),
                    }
                    for ((jp_id, ca_id), score), terms in zip(ordered, explained, strict=True)
                ],
            )
            pair_count += len(ordered)
    retained = 0
    if previous is not None and previous.id != run.id:
        retained = _retain_decided_pairs(session, new_run_id=run.id, previous_run_id=previous.id)
    session.execute(delete(BlockCandidate).where(BlockCandidate.run_id == run.id))
    if previous is not None:
        previous.is_live = False
        previous.status = RunStatus.SUPERSEDED
        session.flush()
    run.is_live = True
    run.status = RunStatus.SUCCEEDED
    run.pair_count = pair_count + retained
    run.finished_at = utcnow()
    # Requests made before the run started are answered by it; those made since may have
    # been applied to the old live run (or read half-way by a block), so they apply again.
    session.execute(
        update(RematchRequest)
        .where(RematchRequest.status.in_([RequestStatus.PENDING, RequestStatus.SENT]))
        .where(RematchRequest.created_at <= run.started_at)
        .values(status=RequestStatus.DONE, processed_at=utcnow())
    )
    session.execute(
        update(RematchRequest)
        .where(RematchRequest.created_at > run.started_at)
        .values(status=RequestStatus.PENDING, sent_at=None, processed_at=None)
    )
    log.info(
        "full rematch run %s is live: %s pairs proposed, %s kept (introduced or approved)",
        run.id,
        pair_count,
        retained,
    )
    return run


def _retain_decided_pairs(session: Session, *, new_run_id: int, previous_run_id: int) -> int:
    """Copy into the new run, marked retained, each pair of the previous live run that is
    introduced or approved and that the new run no longer proposes in its field.

    Score, ranks, terms and first_proposed_at stay those of the run that last proposed it.
    Only pairs the matcher could still propose are kept: both profiles open, consented and
    in the field. A pause, a withdrawn consent or a field left is the owner's own choice,
    not a silent drop. One INSERT ... SELECT: no pair passes through Python.
    Returns the number of pairs kept.
    """
    old = aliased(Match)
    new = aliased(Match)
    jp = aliased(Profile)
    ca = aliased(Profile)
    in_field = profile_fields.alias()

    def matchable(profile: type[Profile]) -> ColumnElement[bool]:
        return and_(
            profile.availability == Availability.OPEN,
            profile.consent_at.is_not(None),
            exists().where(
                in_field.c.profile_id == profile.id, in_field.c.field_id == old.field_id
            ),
        )

    introduced = exists().where(
        Introduction.jp_profile_id == old.jp_profile_id,
        Introduction.ca_profile_id == old.ca_profile_id,
    )
    approved = exists().where(
        PairReview.jp_profile_id == old.jp_profile_id,
        PairReview.ca_profile_id == old.ca_profile_id,
        PairReview.status == ReviewStatus.APPROVED,
    )
    still_proposed = exists().where(
        new.run_id == new_run_id,
        new.field_id == old.field_id,
        new.jp_profile_id == old.jp_profile_id,
        new.ca_profile_id == old.ca_profile_id,
    )
    kept = (
        select(
            literal(new_run_id, Integer),
            old.field_id,
            old.jp_profile_id,
            old.ca_profile_id,
            old.score,
            old.rank_jp,
            old.rank_ca,
            old.terms,
            literal(utcnow(), Match.__table__.c.created_at.type),
            old.first_proposed_at,
            true(),
        )
        .join(jp, jp.id == old.jp_profile_id)
        .join(ca, ca.id == old.ca_profile_id)
        .where(
            old.run_id == previous_run_id,
            or_(introduced, approved),
            ~still_proposed,
            matchable(jp),
            matchable(ca),
        )
    )
    columns = [
        "run_id",
        "field_id",
        "jp_profile_id",
        "ca_profile_id",
        "score",
        "rank_jp",
        "rank_ca",
        "terms",
        "created_at",
        "first_proposed_at",
        "retained",
    ]
    session.execute(insert(Match).from_select(columns, kept))
    # Counted, not taken from rowcount: not every driver reports it for INSERT ... SELECT.
    return (
        session.scalar(
            select(func.count())
            .select_from(Match)
            .where(Match.run_id == new_run_id, Match.retained.is_(True))
        )
        or 0
    )


def _field_pairs(
    session: Session, run_id: int, field_id: int, top_k: int, available: set[int]
) -> dict[tuple[int, int], float]:
    """Every Japanese profile's top k (from its block) united with every Canadian
    profile's top k over all blocks, among profiles still matchable."""
    scores: dict[tuple[int, int], float] = {}
    columns: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for jp_id, ca_id, score, is_row in session.execute(
        select(
            BlockCandidate.jp_profile_id,
            BlockCandidate.ca_profile_id,
            BlockCandidate.score,
            BlockCandidate.is_row,
        ).where(BlockCandidate.run_id == run_id, BlockCandidate.field_id == field_id)
    ):
        if jp_id not in available or ca_id not in available:
            continue
        if is_row:
            scores[(jp_id, ca_id)] = score
        else:
            columns[ca_id].append((-score, jp_id))
    for ca_id, candidates in columns.items():
        for negative, jp_id in sorted(candidates)[:top_k]:
            scores[(jp_id, ca_id)] = -negative
    return scores


def run_full_rematch(
    session: Session, *, top_k: int, block_size: int = DEFAULT_BLOCK_SIZE
) -> MatchRun:
    """Plan, score every block and finish, in this process and unit of work."""
    run, block_ids = plan_full_run(session, top_k=top_k, block_size=block_size)
    for block_id in block_ids:
        score_block(session, block_id=block_id)
    finished = finish_run(session, run_id=run.id)
    assert finished is not None
    return finished


@dataclass(frozen=True)
class StalledRun:
    """A full run in progress that nothing has moved for a while, and what it still needs:
    its pending blocks, or (none pending) its finish."""

    run_id: int
    pending_block_ids: list[int]


def stalled_full_run(
    session: Session, *, quiet_for: timedelta, now: datetime | None = None
) -> StalledRun | None:
    """The full run in progress if it started, and no block of it finished, more than
    ``quiet_for`` ago: its task messages were lost (the broker lost its data), since a
    worker that dies mid-task has its message delivered again within the broker's
    visibility timeout. None when there is no such run."""
    run = full_run_in_progress(session)
    if run is None or run.started_at is None:
        return None
    last_block = session.scalar(
        select(func.max(RunBlock.finished_at)).where(RunBlock.run_id == run.id)
    )
    moved = max(t for t in (run.started_at, last_block) if t is not None)
    if moved > (now or utcnow()) - quiet_for:
        return None
    pending = session.scalars(
        select(RunBlock.id)
        .where(RunBlock.run_id == run.id, RunBlock.status == BlockStatus.PENDING)
        .order_by(RunBlock.id)
    )
    return StalledRun(run.id, list(pending))


def prune_runs(session: Session, *, older_than: timedelta) -> int:
    """Delete finished runs (and their pairs) older than ``older_than``; returns how many.

    The live run and runs in progress are kept. Officers' decisions and introductions
    belong to the pairs of profiles, not to runs, so pruning loses none of them.
    """
    cutoff = utcnow() - older_than
    doomed = list(
        session.scalars(
            select(MatchRun.id).where(
                MatchRun.is_live.is_(False),
                MatchRun.status.not_in(IN_PROGRESS),
                MatchRun.created_at < cutoff,
            )
        )
    )
    if doomed:
        session.execute(delete(Match).where(Match.run_id.in_(doomed)))
        session.execute(delete(MatchRun).where(MatchRun.id.in_(doomed)))
    return len(doomed)
