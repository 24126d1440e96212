"""The API's request and response bodies and query strings, as pydantic models.

Requests forbid unknown fields (a misspelt field is an error, not silently ignored) and
are validated strictly as JSON (``"12"`` is not a number). Every text rejects NUL and
lone surrogates, which no database column can hold. Limits repeat the services' and the
columns' so that the document tells clients what is accepted; the services still check
what needs the database (known field codes, regions, a founding year not in the future).
Responses are open (clients must ignore fields they do not know: new ones may come).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from core.models import (
    Availability,
    CollaborationType,
    Country,
    Decision,
    DeclineReason,
    InterestState,
    IntroductionStatus,
    Locale,
    OrganizationKind,
    PartnerKind,
    ProfileKind,
    ReasonCode,
    ReviewStatus,
    RunKind,
    RunStatus,
)
from core.regions import REGIONS
from core.services.profiles import MAX_KEYWORDS, MAX_SUMMARY_LENGTH, MAX_TITLE_LENGTH
from core.services.reviews import MAX_NOTE_LENGTH


def _storable(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("text", "Remove the NUL character (\\u0000).")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("text", "Give valid Unicode text.") from None
    return value


Text = Annotated[str, AfterValidator(_storable)]
FieldCode = Annotated[str, Field(pattern=r"^[a-z_]{1,40}$", description="A MOC field code.")]
RegionCode = Annotated[
    str,
    AfterValidator(_storable),
    Field(
        max_length=10,
        description="A prefecture (JP-13) or a province or territory (CA-ON).",
        # Documented as the list it is; checked against that list by the services.
        json_schema_extra={"enum": list(REGIONS)},
    ),
]
Cursor = Annotated[
    str,
    Field(
        max_length=500,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The `next_cursor` of the previous page; absent for the first page.",
    ),
]


class Request(BaseModel):
    """Base of request bodies and query strings: unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


# --- Problems ----------------------------------------------------------------------------


class FieldError(BaseModel):
    """One bad field or parameter and what to do about it."""

    field: str = Field(description="The field (dotted path in the body) or parameter name.")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(
        description="`about:blank`, or a link to the problem type on the reference page."
    )
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    errors: list[FieldError] | None = Field(
        default=None, description="Validation problems only: one entry per bad field."
    )


# --- Account -----------------------------------------------------------------------------


class TokenInfo(BaseModel):
    name: str
    prefix: str = Field(description="The first characters of the token, to recognise it.")
    scopes: list[Literal["read", "write", "officer"]]
    expires_at: datetime | None


class Me(BaseModel):
    """The token's owner and the token itself."""

    id: int
    email: str
    display_name: str
    role: Literal["registrant", "officer", "admin"]
    locale: Locale
    token: TokenInfo


# --- Profiles ----------------------------------------------------------------------------


class OrganizationOut(BaseModel):
    name: str
    kind: OrganizationKind
    country: Country
    staff_count: int | None
    founded_year: int | None
    website: str | None


class ContactOut(BaseModel):
    name: str
    email: str


class ProfileOut(BaseModel):
    """A profile in full, as its owner (or an officer) sees it."""

    id: int
    kind: ProfileKind
    country: Country
    region: str
    title: str
    summary: str
    language: Locale
    keywords: list[str]
    fields: list[str] = Field(description="MOC field codes.")
    availability: Availability
    seeking: list[str]
    collaboration_types: list[str]
    orcid: str | None
    consented: bool = Field(description="Consent to cross-border sharing, current notice.")
    matchable: bool = Field(description="Open and consented: proposed to partners.")
    organization: OrganizationOut
    contact: ContactOut
    created_at: datetime
    updated_at: datetime


class ProfileIn(Request):
    """The whole profile and its organization (PUT replaces it; fields left out take
    their defaults)."""

    kind: ProfileKind
    organization_name: Annotated[Text, Field(max_length=300)]
    organization_kind: OrganizationKind
    region: RegionCode
    title: Annotated[Text, Field(max_length=MAX_TITLE_LENGTH)]
    summary: Annotated[Text, Field(max_length=MAX_SUMMARY_LENGTH)]
    fields: Annotated[list[Annotated[Text, Field(max_length=40)]], Field(max_length=10)] = Field(
        description="MOC field codes, at least one."
    )
    keywords: Annotated[
        list[Annotated[Text, Field(max_length=100)]], Field(max_length=MAX_KEYWORDS)
    ] = []
    language: Locale | None = Field(
        default=None, description="Language of the summary; detected when null."
    )
    availability: Availability = Availability.OPEN
    staff_count: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    founded_year: Annotated[int, Field(ge=1600, le=2100)] | None = None
    website: Annotated[Text, Field(max_length=500)] = ""
    seeking: Annotated[list[PartnerKind], Field(max_length=4)] = []
    collaboration_types: Annotated[list[CollaborationType], Field(max_length=6)] = []
    orcid: Annotated[Text, Field(max_length=60)] = ""


# --- Pages ----------------------------------------------------------------------------


class PageQuery(Request):
    limit: int = Field(default=20, ge=1, le=100, description="Items per page.")
    cursor: Cursor | None = None


# --- A registrant's matches ---------------------------------------------------------------


class PartnerContact(BaseModel):
    """Shared only once both sides are introduced."""

    name: str
    email: str
    organization_name: str
    website: str | None


class Partner(BaseModel):
    """A proposed partner; name, organization and contact only after an introduction."""

    id: int
    kind: ProfileKind
    country: Country
    region: str
    fields: list[str]
    title: str
    summary: str
    language: Locale
    contact: PartnerContact | None = Field(description="null until you are introduced.")


class AnswerOut(BaseModel):
    state: InterestState
    reason_code: DeclineReason | None
    updated_at: datetime


class Proposal(BaseModel):
    """One proposed partner in one field, from your side."""

    match_id: int
    field: str
    score: float
    rank: int = Field(description="The partner's rank among your proposals in this field.")
    first_proposed_at: datetime
    is_new: bool = Field(description="Proposed since you last opened My matches.")
    terms: list[list[str]] = Field(description="[your words, their words] in common.")
    partner: Partner
    answer: AnswerOut | None
    introduction: IntroductionStatus | None


class AnswerIn(Request):
    """Your answer about a proposed partner."""

    state: InterestState
    reason_code: DeclineReason | None = Field(default=None, description="With not_now only.")
    reason_text: Annotated[Text, Field(max_length=1000)] = Field(
        default="", description="With not_now only."
    )


class AnswerResult(BaseModel):
    state: InterestState
    reason_code: DeclineReason | None
    introduction: IntroductionStatus | None = Field(
        description="Set when both sides are now interested."
    )


class ProposalQuery(PageQuery):
    field: FieldCode | None = None
    partner_kind: ProfileKind | None = None
    region: RegionCode | None = None
    only_new: bool = False


class ProposalPage(BaseModel):
    items: list[Proposal]
    next_cursor: str | None = Field(description="null on the last page.")


# --- Officers: the review queue, a pair, decisions ----------------------------------------


class PairSide(BaseModel):
    """One side of a pair in the queue (no names or contact details)."""

    profile_id: int
    title: str
    kind: ProfileKind
    region: str
    organization_kind: OrganizationKind


class QueueItem(BaseModel):
    match_id: int
    field: str
    score: float
    rank_jp: int
    rank_ca: int
    status: Literal["none", "shortlisted", "approved", "rejected", "introduced"]
    first_proposed_at: datetime
    retained: bool = Field(description="Kept though no longer proposed (approved or introduced).")
    terms: list[list[str]]
    jp: PairSide
    ca: PairSide


class QueueQuery(Request):
    field: FieldCode | None = None
    min_score: float | None = Field(default=None, ge=0.0, le=1.0)
    max_score: float | None = Field(default=None, ge=0.0, le=1.0)
    pair_kind: (
        Literal[
            "researcher-researcher",
            "researcher-startup",
            "startup-researcher",
            "startup-startup",
        ]
        | None
    ) = Field(default=None, description="Japanese kind, then Canadian kind.")
    region: RegionCode | None = None
    organization_kind: OrganizationKind | None = None
    status: Literal["none", "shortlisted", "approved", "rejected", "introduced"] | None = None
    only_new: bool = Field(default=False, description="First proposed by the live run.")
    call_id: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Only pairs eligible for this call."
    )
    sort: Literal["score", "-score"] = Field(
        default="score", description="score: best first; -score: weakest first."
    )
    limit: int = Field(default=20, ge=1, le=50)
    cursor: Cursor | None = None


class QueuePage(BaseModel):
    items: list[QueueItem]
    next_cursor: str | None
    total: int | None = Field(description="Pairs matching the filters; first page only.")


class PairMatch(BaseModel):
    match_id: int
    run_id: int
    field: str
    score: float
    rank_jp: int
    rank_ca: int
    retained: bool


class InterestOut(BaseModel):
    profile_id: int
    state: InterestState
    reason_code: DeclineReason | None
    reason_text: str
    updated_at: datetime


class DecisionOut(BaseModel):
    id: int
    officer_id: int | None
    decision: Decision
    reason_code: ReasonCode | None
    note: str
    previous_status: str | None
    new_status: str | None
    created_at: datetime


class ReviewOut(BaseModel):
    status: ReviewStatus
    reason_code: ReasonCode | None
    note: str
    updated_at: datetime
    updated_by: int | None


class PairDetail(BaseModel):
    """Everything an officer sees about one pair."""

    jp: ProfileOut
    ca: ProfileOut
    status: Literal["none", "shortlisted", "approved", "rejected", "introduced"]
    live_matches: list[PairMatch]
    history: list[PairMatch]
    interests: list[InterestOut]
    decisions: list[DecisionOut]
    review: ReviewOut | None
    introduction: IntroductionStatus | None
    conflicted: bool = Field(description="You declared a conflict with either organization.")
    terms: list[list[str]]


class DecisionIn(Request):
    decision: Decision
    reason_code: ReasonCode | None = Field(default=None, description="Needed to reject.")
    note: Annotated[Text, Field(max_length=MAX_NOTE_LENGTH)] = ""


class DecisionResult(BaseModel):
    decision: DecisionOut
    review: ReviewOut | None = Field(description="The pair's review; unchanged by a note.")


# --- Grant calls ----------------------------------------------------------------------


class CallOut(BaseModel):
    id: int
    title: str
    description: str
    field_codes: list[str]
    opens_on: date
    closes_on: date
    jp_organization_kinds: list[str]
    ca_organization_kinds: list[str]
    jp_max_staff: int | None
    ca_max_staff: int | None
    excluded_terms: list[str]
    distinct_organizations: bool
    max_proposals_per_profile: int | None
    startup_capacity: int
    researcher_capacity: int
    requires_approval: bool
    created_at: datetime


class CallPage(BaseModel):
    items: list[CallOut]
    next_cursor: str | None


class CallPairOut(BaseModel):
    match_id: int
    field: str
    score: float
    eligible: bool
    reasons: list[str] = Field(description="Why the pair is not eligible (empty if it is).")
    jp: PairSide
    ca: PairSide


class CallPairQuery(PageQuery):
    include_ineligible: bool = Field(
        default=False, description="Also list pairs in the call's fields that fail its rules."
    )


class CallPairPage(BaseModel):
    items: list[CallPairOut]
    next_cursor: str | None


# --- Matching runs ----------------------------------------------------------------------


class RunOut(BaseModel):
    id: int
    kind: RunKind
    status: RunStatus
    is_live: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    elapsed_seconds: float | None
    pair_count: int | None
    vocabulary_size: int | None
    blocks_done: int
    blocks_total: int
    error: str | None
    parameters: dict[str, Any]


class RunPage(BaseModel):
    items: list[RunOut]
    next_cursor: str | None


class RunStarted(BaseModel):
    """A full rematch was started."""

    run: RunOut | None = Field(
        description="The run; null while a worker plans it (see GET /runs within seconds)."
    )
    message: str
