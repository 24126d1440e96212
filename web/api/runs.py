"""Officers: matching runs, and starting a full rematch."""

from __future__ import annotations

from kombu.exceptions import OperationalError

from core.db import session_scope
from core.models import MatchRun
from core.services import matching
from core.services import runs as run_service
from core.services.tokens import OFFICER, READ, WRITE
from web.api import cursors, present, schemas
from web.api.auth import Caller
from web.api.blueprint import PREFIX, api
from web.api.problems import ApiError
from web.api.registry import Reply
from web.support import settings
from workers import tasks
from workers.dispatch import dispatch_pending


@api.operation(
    "GET",
    "/runs",
    summary="Matching runs",
    tag="runs",
    scopes=(READ, OFFICER),
    query=schemas.PageQuery,
    responses={200: schemas.RunPage},
    links={"one_run": {"run_id": "$response.body#/items/0/id"}},
)
def list_runs(caller: Caller, query: schemas.PageQuery) -> schemas.RunPage:
    """Full and incremental runs, newest first, with their status and progress."""
    after = cursors.decode(query.cursor, "runs", (int,))[0] if query.cursor else None
    with session_scope() as session:
        # The service lists the newest runs; read further until the page after the
        # cursor is full (runs are only ever added at the top, so this ends quickly).
        want = query.limit + 1
        while True:
            newest = matching.latest_runs(session, limit=want)
            older = [run for run in newest if after is None or run.id < after[0]]
            if len(older) > query.limit or len(newest) < want:
                break
            want *= 2
        page, following = cursors.page_after(older, lambda run: (-run.id,), None, query.limit)
        items = [present.run_out(run) for run in page]
    return schemas.RunPage(
        items=items,
        next_cursor=cursors.encode("runs", (page[-1].id,)) if following else None,
    )


@api.operation(
    "GET",
    "/runs/{run_id}",
    summary="One matching run",
    tag="runs",
    scopes=(READ, OFFICER),
    path_params={"run_id": "The run's id."},
    responses={200: schemas.RunOut},
)
def one_run(caller: Caller, run_id: int) -> schemas.RunOut:
    """A run's status, blocks done out of the total, and timing: poll it while it runs."""
    with session_scope() as session:
        run = session.get(MatchRun, run_id)
        if run is None:
            raise ApiError(404, f"There is no matching run {run_id}.")
        return present.run_out(run)


@api.operation(
    "POST",
    "/runs",
    summary="Start a full rematch",
    tag="runs",
    scopes=(WRITE, OFFICER),
    responses={
        202: (schemas.RunStarted, "The full rematch started."),
        409: (schemas.Problem, "A full rematch is already in progress."),
        503: (schemas.Problem, "The task queue is unavailable."),
    },
)
def start_run(caller: Caller) -> Reply:
    """Refit the matcher and rematch every profile. With workers, the run is planned and
    scored in the background (the answer's `run` is null: it shows in GET /runs within
    seconds); without, it runs to the end before the answer. The new pairs go live when
    it finishes; until then everyone sees the previous run."""
    configured = settings()
    with session_scope() as session:
        running = run_service.full_run_in_progress(session)
        if running is not None:
            raise _in_progress(running.id)
    if configured.uses_broker:
        try:
            tasks.full_rematch.apply_async(retry=False)
        except OperationalError:
            raise ApiError(
                503,
                "The task queue is unavailable; try again in a few minutes.",
                headers={"Retry-After": "60"},
            ) from None
        started = schemas.RunStarted(
            run=None, message="A full rematch was queued; a worker plans it within seconds."
        )
        return Reply(202, started, {"Location": f"{PREFIX}/runs"})
    run_id = tasks.full_rematch()
    dispatch_pending(configured)  # edits made during the run apply to the new one
    if run_id is None:  # another request started one meanwhile
        raise _in_progress(None)
    with session_scope() as session:
        run = session.get(MatchRun, run_id)
        if run is None:  # pruned in the meantime: nothing sensible to show
            raise RuntimeError(f"run {run_id} vanished right after it finished")
        started = schemas.RunStarted(
            run=present.run_out(run), message=f"Full rematch run {run_id} finished."
        )
    return Reply(202, started, {"Location": f"{PREFIX}/runs/{run_id}"})


def _in_progress(run_id: int | None) -> ApiError:
    which = f"run {run_id}" if run_id is not None else "a run"
    return ApiError(
        409,
        f"A full rematch ({which}) is already in progress; wait for it to finish.",
        kind="conflict",
        headers={"Location": f"{PREFIX}/runs/{run_id}"} if run_id is not None else None,
    )
