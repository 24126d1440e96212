"""Officers: the review queue (the console's filters), one pair in full, decisions."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from core.db import session_scope
from core.errors import Message, NotFound
from core.models import IntroductionStatus
from core.services import matching, reviews
from core.services.reviews import QueueFilters, QueueRow
from core.services.tokens import OFFICER, READ, WRITE
from web.api import cursors, present, schemas
from web.api.auth import Caller
from web.api.blueprint import PREFIX, api
from web.api.problems import ApiError, invalid_request, localized
from web.api.registry import Reply
from web.support import hand_over, links

PAIR_PARAMS = {
    "jp_id": "The Japanese profile's id.",
    "ca_id": "The Canadian profile's id.",
}


def _filters(query: schemas.QueueQuery) -> QueueFilters:
    return QueueFilters(
        field=query.field or "",
        min_score=query.min_score,
        max_score=query.max_score,
        pair_kind=query.pair_kind or "",
        region=query.region or "",
        organization_kind=query.organization_kind.value if query.organization_kind else "",
        review_status=query.status or "",
        only_new=query.only_new,
        call_id=query.call_id,
    )


def _queue_page(
    session: Session,
    filters: QueueFilters,
    *,
    sort: str,
    after: tuple[float, int] | None,
    limit: int,
) -> tuple[list[QueueRow], bool]:
    """Up to ``limit`` rows of the queue after the (score, id) key ``after``, and whether
    more follow.

    Keyset pagination over the queue service: the score bound of the cursor becomes a
    score filter (indexed), and the few rows that tie with the cursor's score but come
    before it by id are skipped; the service's pages are read until enough rows are found.
    """
    if after is not None:
        score = after[0]
        if sort == "score":
            bound = score if filters.max_score is None else min(score, filters.max_score)
            filters = replace(filters, max_score=bound)
        else:
            bound = score if filters.min_score is None else max(score, filters.min_score)
            filters = replace(filters, min_score=bound)
    rows: list[QueueRow] = []
    page = 1
    while True:
        # Counting only as far as this page (and one row past it) tells whether another
        # page follows, without counting the whole queue on every request.
        result = reviews.review_queue(
            session, filters, sort=sort, page=page, count_limit=page * reviews.PAGE_SIZE
        )
        rows.extend(row for row in result.rows if _comes_after(row, sort, after))
        more_pages = result.total_is_lower_bound or result.page < result.pages
        if len(rows) >= limit or not more_pages:
            # Rows on later pages all come after these: more follow if there are pages.
            return rows[:limit], len(rows) > limit or more_pages
        page += 1


def _comes_after(row: QueueRow, sort: str, after: tuple[float, int] | None) -> bool:
    if after is None:
        return True
    score, last_id = after
    if row.match.score != score:
        return row.match.score < score if sort == "score" else row.match.score > score
    return row.match.id > last_id  # ties are ordered by id in both sorts


def _queue_item(row: QueueRow) -> schemas.QueueItem:
    match = row.match
    return schemas.QueueItem(
        match_id=match.id,
        field=match.field.code,
        score=match.score,
        rank_jp=match.rank_jp,
        rank_ca=match.rank_ca,
        status=row.status,  # type: ignore[arg-type]
        first_proposed_at=match.first_proposed_at,
        retained=match.retained,
        terms=[list(term) for term in match.terms],
        jp=present.pair_side(match.jp_profile),
        ca=present.pair_side(match.ca_profile),
    )


@api.operation(
    "GET",
    "/pairs",
    summary="The review queue",
    tag="review",
    scopes=(READ, OFFICER),
    query=schemas.QueueQuery,
    responses={200: schemas.QueuePage},
    links={
        target: {
            "jp_id": "$response.body#/items/0/jp/profile_id",
            "ca_id": "$response.body#/items/0/ca/profile_id",
        }
        for target in ("pair", "decide")
    },
)
def queue(caller: Caller, query: schemas.QueueQuery) -> schemas.QueuePage:
    """The live run's pairs with the review console's filters, best first (or weakest
    first with `sort=-score`), with each pair's review status. No names or contact
    details: open a pair for those."""
    context: dict[str, object] = {"s": query.sort}
    after: tuple[float, int] | None = None
    with session_scope() as session:
        live = matching.live_run(session)
        if query.cursor:
            key, given = cursors.decode(query.cursor, "pairs", (float, int))
            if given.get("s") != query.sort:
                raise invalid_request(
                    [{"field": "cursor", "message": "Keep the sort of the first page."}]
                )
            if live is None or given.get("r") != live.id:
                raise ApiError(
                    409,
                    "The live run changed since this cursor was issued: list again from the "
                    "first page.",
                    kind="cursor-expired",
                )
            after = (float(key[0]), int(key[1]))
        context["r"] = live.id if live is not None else None
        filters = _filters(query)
        try:
            rows, more = _queue_page(
                session, filters, sort=query.sort, after=after, limit=query.limit
            )
            total = None
            if after is None:
                total = reviews.review_queue(session, filters, sort=query.sort).total
        except NotFound as error:  # the call filter names no call
            message = localized(str(error))
            raise invalid_request([{"field": "call_id", "message": message}]) from None
        items = [_queue_item(row) for row in rows]
    following = None
    if more and rows:
        last = rows[-1].match
        following = cursors.encode("pairs", (last.score, last.id), **context)
    return schemas.QueuePage(items=items, next_cursor=following, total=total)


@api.operation(
    "GET",
    "/pairs/{jp_id}-{ca_id}",
    summary="One pair in full",
    tag="review",
    scopes=(READ, OFFICER),
    path_params=PAIR_PARAMS,
    responses={200: schemas.PairDetail},
)
def pair(caller: Caller, jp_id: int, ca_id: int) -> schemas.PairDetail:
    """Both profiles in full, the live matches (one per shared field), the history across
    runs, both sides' answers, the decisions, the review and the introduction. 404 unless
    the pair was ever proposed."""
    with session_scope() as session:
        officer = caller.row(session)
        detail = reviews.pair_detail(session, jp_id=jp_id, ca_id=ca_id, officer=officer)
        introduced = (
            detail.introduction is not None
            and detail.introduction.status == IntroductionStatus.INTRODUCED
        )
        status = (
            "introduced"
            if introduced
            else (detail.review.status.value if detail.review is not None else "none")
        )
        return schemas.PairDetail(
            jp=present.profile_out(detail.jp),
            ca=present.profile_out(detail.ca),
            status=status,  # type: ignore[arg-type]
            live_matches=[present.pair_match(m) for m in detail.live_matches],
            history=[present.pair_match(m) for m in detail.history],
            interests=[present.interest_out(i) for i in detail.interests],
            decisions=[present.decision_out(d) for d in detail.decisions],
            review=present.review_out(detail.review),
            introduction=detail.introduction.status if detail.introduction else None,
            conflicted=detail.conflicted,
            terms=detail.terms,
        )


@api.operation(
    "POST",
    "/pairs/{jp_id}-{ca_id}/decisions",
    summary="Decide on a pair",
    tag="review",
    scopes=(WRITE, OFFICER),
    path_params=PAIR_PARAMS,
    body=schemas.DecisionIn,
    responses={
        201: (schemas.DecisionResult, "Decision recorded."),
        403: (
            schemas.Problem,
            "The token lacks a scope, or you declared a conflict of interest with one of "
            "the pair's organizations.",
        ),
    },
)
def decide(caller: Caller, jp_id: int, ca_id: int, body: schemas.DecisionIn) -> Reply:
    """Approve, reject (with a reason code), shortlist, or add a note. Approving a pair
    whose introduction waits for approval introduces it. Recorded in the pair's history
    and the audit trail."""
    with session_scope() as session:
        officer = caller.row(session)
        review = reviews.decide(
            session,
            officer=officer,
            jp_id=jp_id,
            ca_id=ca_id,
            decision=body.decision,
            reason_code=body.reason_code,
            note=body.note,
            links=links(),
        )
        detail = reviews.pair_detail(session, jp_id=jp_id, ca_id=ca_id, officer=officer)
        if not detail.decisions:  # decide() just wrote one
            raise NotFound(Message("no decision recorded"))
        result = schemas.DecisionResult(
            decision=present.decision_out(detail.decisions[-1]),
            review=present.review_out(review),
        )
    hand_over()
    return Reply(201, result, {"Location": f"{PREFIX}/pairs/{jp_id}-{ca_id}"})
