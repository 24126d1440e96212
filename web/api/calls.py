"""Officers: grant calls and the live pairs eligible for them."""

from __future__ import annotations

from core.db import session_scope
from core.models import GrantCall
from core.services import calls as call_service
from core.services.calls import CallPair
from core.services.tokens import OFFICER, READ
from web.api import cursors, present, schemas
from web.api.auth import Caller
from web.api.blueprint import api
from web.api.problems import localized


def _call_key(call: GrantCall) -> cursors.Key:
    # The service's order: the latest closing first, then by id.
    return (-call.closes_on.toordinal(), call.id)


def _pair_key(pair: CallPair) -> cursors.Key:
    # The service's order: best first, then by the two profile ids (one row per pair).
    return (-pair.match.score, pair.match.jp_profile_id, pair.match.ca_profile_id)


@api.operation(
    "GET",
    "/calls",
    summary="Grant calls",
    tag="calls",
    scopes=(READ, OFFICER),
    query=schemas.PageQuery,
    responses={200: schemas.CallPage},
    links={
        "one_call": {"call_id": "$response.body#/items/0/id"},
        "call_pairs": {"call_id": "$response.body#/items/0/id"},
    },
)
def list_calls(caller: Caller, query: schemas.PageQuery) -> schemas.CallPage:
    """Every grant call, the latest closing first."""
    after = cursors.decode(query.cursor, "calls", (int, int))[0] if query.cursor else None
    with session_scope() as session:
        found = call_service.list_calls(session)
        page, following = cursors.page_after(found, _call_key, after, query.limit)
        items = [present.call_out(call) for call in page]
    return schemas.CallPage(
        items=items, next_cursor=cursors.encode("calls", following) if following else None
    )


@api.operation(
    "GET",
    "/calls/{call_id}",
    summary="One grant call",
    tag="calls",
    scopes=(READ, OFFICER),
    path_params={"call_id": "The call's id."},
    responses={200: schemas.CallOut},
)
def one_call(caller: Caller, call_id: int) -> schemas.CallOut:
    """A call's details and pair-eligibility rules."""
    with session_scope() as session:
        return present.call_out(call_service.get_call(session, call_id))


@api.operation(
    "GET",
    "/calls/{call_id}/pairs",
    summary="The pairs eligible for a grant call",
    tag="calls",
    scopes=(READ, OFFICER),
    path_params={"call_id": "The call's id."},
    query=schemas.CallPairQuery,
    responses={200: schemas.CallPairPage},
)
def call_pairs(caller: Caller, call_id: int, query: schemas.CallPairQuery) -> schemas.CallPairPage:
    """The live pairs in the call's fields, best first, each pair once, eligible ones only
    unless `include_ineligible` (then with the reasons each fails)."""
    after = (
        cursors.decode(query.cursor, "call-pairs", (float, int, int))[0] if query.cursor else None
    )
    with session_scope() as session:
        call = call_service.get_call(session, call_id)
        found = call_service.call_pairs(session, call, include_ineligible=query.include_ineligible)
        page, following = cursors.page_after(found, _pair_key, after, query.limit)
        items = [
            schemas.CallPairOut(
                match_id=pair.match.id,
                field=pair.match.field.code,
                score=pair.match.score,
                eligible=pair.eligible,
                reasons=[localized(reason) for reason in pair.reasons],
                jp=present.pair_side(pair.jp),
                ca=present.pair_side(pair.ca),
            )
            for pair in page
        ]
    return schemas.CallPairPage(
        items=items,
        next_cursor=cursors.encode("call-pairs", following) if following else None,
    )
