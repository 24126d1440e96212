"""Profiles: your own (read and replace), and any profile for officers."""

from __future__ import annotations

from core.db import session_scope
from core.errors import Message, NotFound
from core.services import profiles as profile_service
from core.services.profiles import ProfileChanges, RegistrantProfile
from core.services.tokens import READ, WRITE
from web.api import present, schemas
from web.api.auth import Caller
from web.api.blueprint import PREFIX, api
from web.api.problems import ApiError, localized
from web.api.registry import Reply
from web.support import hand_over

NO_PROFILE = "You have no profile yet: PUT /api/v1/profile creates it."


@api.operation(
    "GET",
    "/profile",
    summary="Your profile",
    tag="profiles",
    scopes=(READ,),
    responses={
        200: schemas.ProfileOut,
        404: (schemas.Problem, "You have no profile yet."),
    },
    links={"one_profile": {"profile_id": "$response.body#/id"}},
)
def own_profile(caller: Caller) -> schemas.ProfileOut:
    """Your profile and organization, with your own contact details."""
    with session_scope() as session:
        profile = profile_service.profile_of(session, caller.user.id)
        if profile is None:
            raise ApiError(404, NO_PROFILE)
        return present.profile_out(profile)


@api.operation(
    "PUT",
    "/profile",
    summary="Create or replace your profile",
    tag="profiles",
    scopes=(WRITE,),
    body=schemas.ProfileIn,
    responses={
        200: (schemas.ProfileOut, "Profile replaced."),
        201: (schemas.ProfileOut, "Profile created."),
    },
)
def save_profile(caller: Caller, body: schemas.ProfileIn) -> Reply:
    """Write your whole profile and organization, then rematch it. Nothing is written when
    any field is invalid (422 lists each). A new profile is matched once you consent to
    cross-border sharing on the web page."""
    keywords = list(dict.fromkeys(k.strip() for k in body.keywords if k.strip()))
    details = RegistrantProfile(
        kind=body.kind,
        organization_name=body.organization_name,
        organization_kind=body.organization_kind,
        region=body.region,
        staff_count=body.staff_count,
        founded_year=body.founded_year,
        website=body.website,
        seeking=[kind.value for kind in body.seeking],
        collaboration_types=[kind.value for kind in body.collaboration_types],
        orcid=body.orcid,
        changes=ProfileChanges(
            title=body.title,
            summary=body.summary,
            field_codes=list(body.fields),
            keywords=keywords,
            availability=body.availability,
            language=body.language,
        ),
    )
    with session_scope() as session:
        existed = profile_service.profile_of(session, caller.user.id) is not None
        saved = profile_service.save_registrant_profile(
            session, owner=caller.row(session), details=details
        )
        out = present.profile_out(saved)
    hand_over()
    return Reply(200 if existed else 201, out, {"Location": f"{PREFIX}/profile"})


@api.operation(
    "GET",
    "/profiles/{profile_id}",
    summary="One profile",
    tag="profiles",
    scopes=(READ,),
    path_params={"profile_id": "The profile's id."},
    responses={200: schemas.ProfileOut},
)
def one_profile(caller: Caller, profile_id: int) -> schemas.ProfileOut:
    """Any profile for a token with the officer scope; otherwise only your own (any other
    id is answered 404, whether or not it exists)."""
    with session_scope() as session:
        try:
            profile = profile_service.get_profile(session, profile_id)
        except NotFound:
            profile = None
        # The same answer for another's profile as for none: ids reveal nothing.
        if profile is None or not (caller.is_officer or profile.owner_id == caller.user.id):
            raise ApiError(404, localized(Message("There is no profile %(id)s.", id=profile_id)))
        return present.profile_out(profile)
