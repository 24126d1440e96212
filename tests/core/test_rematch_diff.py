"""What a rematch changed: counts and pages of new, dropped, kept and rescored pairs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidInput, NotFound
from core.models import Country, Field, Match, MatchRun, Profile, RunKind, RunStatus, utcnow
from core.services import matching, rematch_diff
from core.services.rematch_diff import ChangeKind, diff_runs


def _profiles(session: Session, country: Country, count: int) -> list[Profile]:
    return list(
        session.scalars(
            select(Profile).where(Profile.country == country).order_by(Profile.id).limit(count)
        )
    )


def _fields(session: Session) -> list[Field]:
    return list(session.scalars(select(Field).order_by(Field.position)))


def _run(
    session: Session,
    *,
    minutes_ago: int,
    status: RunStatus = RunStatus.SUPERSEDED,
    kind: RunKind = RunKind.FULL,
) -> MatchRun:
    finished = utcnow() - timedelta(minutes=minutes_ago)
    run = MatchRun(
        kind=kind,
        status=status,
        started_at=finished - timedelta(seconds=30),
        finished_at=finished,
    )
    session.add(run)
    session.flush()
    return run


def _pair(
    session: Session,
    run: MatchRun,
    field: Field,
    jp: Profile,
    ca: Profile,
    score: float,
    *,
    retained: bool = False,
) -> None:
    session.add(
        Match(
            run_id=run.id,
            field_id=field.id,
            jp_profile_id=jp.id,
            ca_profile_id=ca.id,
            score=score,
            rank_jp=1,
            rank_ca=1,
            retained=retained,
        )
    )


@dataclass(frozen=True)
class World:
    jp: list[Profile]
    ca: list[Profile]
    a: Field
    b: Field
    old: MatchRun
    new: MatchRun


@pytest.fixture
def world(session: Session) -> World:
    """Two runs over two fields with every kind of change:

    field A: (0,0) same score; (0,1) +0.3; (0,2) -0.05 (below the threshold);
             (1,0) dropped; (1,1) new; (1,2) kept (retained in the new run);
    field B: (0,0) new, although the same two profiles are in both runs in field A.
    """
    jp = _profiles(session, Country.JP, 2)
    ca = _profiles(session, Country.CA, 3)
    a, b = _fields(session)[:2]
    old = _run(session, minutes_ago=60)
    new = _run(session, minutes_ago=10)
    for run, field, j, c, score, retained in [
        (old, a, 0, 0, 0.5, False),
        (new, a, 0, 0, 0.5, False),
        (old, a, 0, 1, 0.2, False),
        (new, a, 0, 1, 0.5, False),
        (old, a, 0, 2, 0.4, False),
        (new, a, 0, 2, 0.35, False),
        (old, a, 1, 0, 0.3, False),
        (new, a, 1, 1, 0.6, False),
        (old, a, 1, 2, 0.7, False),
        (new, a, 1, 2, 0.7, True),
        (new, b, 0, 0, 0.9, False),
    ]:
        _pair(session, run, field, jp[j], ca[c], score, retained=retained)
    session.flush()
    return World(jp=jp, ca=ca, a=a, b=b, old=old, new=new)


def _ids(changes: list[rematch_diff.PairChange]) -> list[tuple[int, int]]:
    return [(c.jp_profile_id, c.ca_profile_id) for c in changes]


def test_diff_runs_counts_every_kind_of_change_per_field(session: Session, world: World) -> None:
    old, new = world.old, world.new
    diff = diff_runs(session, new.id, old.id)

    by_code = {f.field.code: f for f in diff.fields}
    assert len(by_code) == 7
    a = by_code[world.a.code]
    b = by_code[world.b.code]
    assert a.counts == {
        ChangeKind.NEW: 1,
        ChangeKind.DROPPED: 1,
        ChangeKind.KEPT: 1,
        ChangeKind.CHANGED: 1,
    }
    assert a.common == 4
    assert b.counts == {
        ChangeKind.NEW: 1,
        ChangeKind.DROPPED: 0,
        ChangeKind.KEPT: 0,
        ChangeKind.CHANGED: 0,
    }
    assert diff.total(ChangeKind.NEW) == 2
    assert not diff.is_empty


def test_diff_runs_lists_both_titles_and_both_scores(session: Session, world: World) -> None:
    old, new = world.old, world.new
    jp, ca = world.jp, world.ca
    a = diff_runs(session, new.id, old.id).fields[0]

    (changed,) = a.listed(ChangeKind.CHANGED)
    assert (changed.jp_title, changed.ca_title) == (jp[0].title, ca[1].title)
    assert (changed.old_score, changed.new_score) == (0.2, 0.5)
    assert changed.delta == pytest.approx(0.3)
    (dropped,) = a.listed(ChangeKind.DROPPED)
    assert (dropped.jp_profile_id, dropped.ca_profile_id, dropped.old_score) == (
        jp[1].id,
        ca[0].id,
        0.3,
    )
    assert dropped.new_score is None and dropped.delta is None
    (added,) = a.listed(ChangeKind.NEW)
    assert (added.old_score, added.new_score) == (None, 0.6)
    (kept,) = a.listed(ChangeKind.KEPT)
    assert _ids([kept]) == [(jp[1].id, ca[2].id)]


def test_diff_runs_threshold_decides_what_a_large_change_is(session: Session, world: World) -> None:
    old, new = world.old, world.new
    assert diff_runs(session, new.id, old.id, threshold=0.01).total(ChangeKind.CHANGED) == 2
    assert diff_runs(session, new.id, old.id, threshold=0.3).total(ChangeKind.CHANGED) == 0
    with pytest.raises(InvalidInput):
        diff_runs(session, new.id, old.id, threshold=-0.1)


def test_diff_runs_pages_each_list_per_field_and_keeps_full_counts(session: Session) -> None:
    jp = _profiles(session, Country.JP, 5)
    ca = _profiles(session, Country.CA, 1)
    a, b = _fields(session)[:2]
    old = _run(session, minutes_ago=60)
    new = _run(session, minutes_ago=10)
    for i, profile in enumerate(jp):
        _pair(session, new, a, profile, ca[0], 0.1 * (i + 1))
        _pair(session, new, b, profile, ca[0], 0.1 * (i + 1))
    session.flush()

    first = diff_runs(session, new.id, old.id, limit=2)
    second = diff_runs(session, new.id, old.id, limit=2, offset=2)
    only_b = diff_runs(session, new.id, old.id, limit=10, field_id=b.id)

    for f in first.fields[:2]:
        assert f.count(ChangeKind.NEW) == 5
        # Best first, two per field.
        assert _ids(f.listed(ChangeKind.NEW)) == [(jp[4].id, ca[0].id), (jp[3].id, ca[0].id)]
    assert _ids(second.fields[0].listed(ChangeKind.NEW)) == [
        (jp[2].id, ca[0].id),
        (jp[1].id, ca[0].id),
    ]
    assert [f.field.id for f in only_b.fields] == [b.id]
    assert len(only_b.fields[0].listed(ChangeKind.NEW)) == 5
    # Past the last page, or with no page at all, the counts stay complete.
    for empty in (
        diff_runs(session, new.id, old.id, limit=0),
        diff_runs(session, new.id, old.id, limit=2, offset=10),
    ):
        assert empty.fields[0].listed(ChangeKind.NEW) == []
        assert empty.fields[0].count(ChangeKind.NEW) == 5


def test_diff_runs_refuses_unknown_runs_and_incremental_records(
    session: Session, world: World
) -> None:
    old = world.old
    incremental = _run(session, minutes_ago=5, status=RunStatus.SUCCEEDED, kind=RunKind.INCREMENTAL)
    with pytest.raises(NotFound):
        diff_runs(session, 10**9, old.id)
    with pytest.raises(NotFound):
        diff_runs(session, incremental.id, old.id)
    with pytest.raises(NotFound):
        rematch_diff.full_run(session, incremental.id)


def test_previous_full_run_is_the_one_superseded_last_before_it(session: Session) -> None:
    live = matching.live_run(session)
    assert live is not None
    older = _run(session, minutes_ago=120)
    newer = _run(session, minutes_ago=60)
    _run(session, minutes_ago=90, status=RunStatus.FAILED)
    _run(session, minutes_ago=80, kind=RunKind.INCREMENTAL)

    assert rematch_diff.previous_full_run(session, newer) == older
    assert rematch_diff.previous_full_run(session, older) is None
    # The fixture's live run finished minutes ago, after both.
    assert rematch_diff.previous_full_run(session, live) == newer
    assert rematch_diff.latest_full_run(session) == live
    assert rematch_diff.finished_full_runs(session, limit=3) == [live, newer, older]
