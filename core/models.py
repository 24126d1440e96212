"""The data model: typed SQLAlchemy 2 models. No queries and no web or queue code here."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Current time in UTC (used as a column default: a callable, evaluated per row)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # SQLite keeps no zone: what was written was UTC.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
    }


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as VARCHAR + CHECK on every database: portable between SQLite and
    # PostgreSQL and no enum types to drop on downgrade.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(str(m.value)) for m in cls),
        values_callable=lambda members: [str(m.value) for m in members],
        validate_strings=True,
    )


class Role(enum.StrEnum):
    REGISTRANT = "registrant"
    OFFICER = "officer"
    ADMIN = "admin"


class Locale(enum.StrEnum):
    EN = "en"
    JA = "ja"
    FR = "fr"


class Country(enum.StrEnum):
    JP = "JP"
    CA = "CA"


class OrganizationKind(enum.StrEnum):
    STARTUP = "startup"
    SME = "sme"
    LARGE_COMPANY = "large_company"
    UNIVERSITY = "university"
    PUBLIC_RESEARCH_INSTITUTE = "public_research_institute"
    OTHER = "other"


class ProfileKind(enum.StrEnum):
    RESEARCHER = "researcher"
    STARTUP = "startup"


class Availability(enum.StrEnum):
    OPEN = "open"
    PAUSED = "paused"


class CollaborationType(enum.StrEnum):
    JOINT_RD = "joint_rd"
    FACILITY_USE = "facility_use"
    RESEARCHER_EXCHANGE = "researcher_exchange"
    STANDARDS = "standards"
    LICENSING = "licensing"
    INVESTMENT = "investment"


class RunKind(enum.StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"


class RunStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SUPERSEDED = "superseded"


class Decision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    SHORTLIST = "shortlist"
    NOTE = "note"


class ReasonCode(enum.StrEnum):
    OFF_TOPIC = "off_topic"
    INELIGIBLE = "ineligible"
    CONFLICT_OF_INTEREST = "conflict_of_interest"
    DUPLICATE = "duplicate"
    OTHER = "other"


class PartnerKind(enum.StrEnum):
    """The kinds of partner a profile says it looks for."""

    RESEARCHER = "researcher"
    STARTUP = "startup"
    SME = "sme"
    LARGE_COMPANY = "large_company"


class DigestFrequency(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    NEVER = "never"


class ConsentAction(enum.StrEnum):
    GIVEN = "given"
    WITHDRAWN = "withdrawn"


class InterestState(enum.StrEnum):
    INTERESTED = "interested"
    NOT_NOW = "not_now"
    SAVED = "saved"


class DeclineReason(enum.StrEnum):
    OFF_TOPIC = "off_topic"
    NOT_THE_RIGHT_TIME = "not_the_right_time"
    NO_CAPACITY = "no_capacity"
    ALREADY_IN_CONTACT = "already_in_contact"
    OTHER = "other"


class IntroductionStatus(enum.StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    INTRODUCED = "introduced"


class EmailStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class RequestStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DONE = "done"
    FAILED = "failed"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.REGISTRANT)
    locale: Mapped[Locale] = mapped_column(_enum(Locale, "locale"), default=Locale.EN)
    email_verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    digest_frequency: Mapped[DigestFrequency] = mapped_column(
        _enum(DigestFrequency, "digest_frequency"),
        default=DigestFrequency.WEEKLY,
        server_default=DigestFrequency.WEEKLY.value,
    )
    last_digest_at: Mapped[datetime | None]
    # When the registrant last opened "My matches" (for "only new since my last visit").
    matches_seen_at: Mapped[datetime | None]

    profiles: Mapped[list[Profile]] = relationship(back_populates="owner")


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    country: Mapped[Country] = mapped_column(_enum(Country, "country"))
    kind: Mapped[OrganizationKind] = mapped_column(_enum(OrganizationKind, "organization_kind"))
    staff_count: Mapped[int | None]
    founded_year: Mapped[int | None]
    website: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    profiles: Mapped[list[Profile]] = relationship(back_populates="organization")


profile_fields = Table(
    "profile_fields",
    Base.metadata,
    Column("profile_id", ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True),
    Column("field_id", ForeignKey("fields.id", ondelete="RESTRICT"), primary_key=True),
)


class Field(Base):
    """One of the seven fields of the 2023 Japan–Canada MOC, labelled in three languages."""

    __tablename__ = "fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    position: Mapped[int]
    label_en: Mapped[str] = mapped_column(String(200))
    label_ja: Mapped[str] = mapped_column(String(200))
    label_fr: Mapped[str] = mapped_column(String(200))

    def label(self, locale: str) -> str:
        """The label in ``locale`` (en, ja or fr), English for anything else."""
        return {"ja": self.label_ja, "fr": self.label_fr}.get(locale, self.label_en)


class Profile(Base):
    __tablename__ = "profiles"
    __table_args__ = (Index(None, "country", "availability"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[ProfileKind] = mapped_column(_enum(ProfileKind, "profile_kind"))
    country: Mapped[Country] = mapped_column(_enum(Country, "country"))
    region: Mapped[str] = mapped_column(String(10))
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    language: Mapped[Locale] = mapped_column(_enum(Locale, "locale"))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    seeking: Mapped[list[str]] = mapped_column(JSON, default=list)
    collaboration_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    availability: Mapped[Availability] = mapped_column(
        _enum(Availability, "availability"), default=Availability.OPEN
    )
    consent_at: Mapped[datetime | None]
    consent_version: Mapped[str | None] = mapped_column(String(40))
    orcid: Mapped[str | None] = mapped_column(String(19))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    owner: Mapped[User | None] = relationship(back_populates="profiles")
    organization: Mapped[Organization] = relationship(back_populates="profiles")
    fields: Mapped[list[Field]] = relationship(secondary=profile_fields, order_by=Field.position)

    @property
    def is_matchable(self) -> bool:
        """Open and consented to cross-border sharing."""
        return self.availability == Availability.OPEN and self.consent_at is not None


_FULL_RUN_IN_PROGRESS = "kind = 'full' AND status IN ('pending', 'running')"


class MatchRun(Base):
    __tablename__ = "match_runs"
    __table_args__ = (
        # At most one live run, enforced by the database rather than by care.
        Index(
            "uq_match_runs_live",
            "is_live",
            unique=True,
            sqlite_where=text("is_live"),
            postgresql_where=text("is_live"),
        ),
        # At most one full run in progress.
        Index(
            "uq_match_runs_full_in_progress",
            "kind",
            unique=True,
            sqlite_where=text(_FULL_RUN_IN_PROGRESS),
            postgresql_where=text(_FULL_RUN_IN_PROGRESS),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RunKind] = mapped_column(_enum(RunKind, "run_kind"))
    status: Mapped[RunStatus] = mapped_column(
        _enum(RunStatus, "run_status"), default=RunStatus.PENDING
    )
    is_live: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    vocabulary_size: Mapped[int | None]
    pair_count: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    blocks_total: Mapped[int] = mapped_column(default=0, server_default="0")
    blocks_done: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class BlockStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class RunBlock(Base):
    """One block of a full run: the Japanese profiles of one field with ids in
    [first_id, last_id], scored against every Canadian profile of that field."""

    __tablename__ = "run_blocks"
    __table_args__ = (UniqueConstraint("run_id", "field_id", "first_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("match_runs.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(ForeignKey("fields.id", ondelete="RESTRICT"))
    first_id: Mapped[int]
    last_id: Mapped[int]
    status: Mapped[BlockStatus] = mapped_column(
        _enum(BlockStatus, "block_status"), default=BlockStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]


class BlockCandidate(Base):
    """A block's scored pairs, kept until the run finishes: each Japanese profile's top k
    ("row") and each Canadian profile's best k within the block ("column")."""

    __tablename__ = "block_candidates"
    __table_args__ = (Index(None, "run_id", "field_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("match_runs.id", ondelete="CASCADE"))
    block_id: Mapped[int] = mapped_column(
        ForeignKey("run_blocks.id", ondelete="CASCADE"), index=True
    )
    field_id: Mapped[int]
    jp_profile_id: Mapped[int]
    ca_profile_id: Mapped[int]
    score: Mapped[float] = mapped_column(Float)
    is_row: Mapped[bool] = mapped_column(Boolean)


class MatcherModel(Base):
    """The fitted matcher of a full run (vocabulary and weights), reused by incremental
    rematches so that they score with the live run's vocabulary."""

    __tablename__ = "matcher_models"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("match_runs.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Match(Base):
    """One proposed cross-border pair in one field, as scored by one run."""

    __tablename__ = "matches"
    __table_args__ = (
        UniqueConstraint("run_id", "field_id", "jp_profile_id", "ca_profile_id"),
        Index(None, "run_id", "jp_profile_id"),
        Index(None, "run_id", "ca_profile_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("match_runs.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(ForeignKey("fields.id", ondelete="RESTRICT"))
    jp_profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    ca_profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(Float)
    rank_jp: Mapped[int] = mapped_column(Integer)
    rank_ca: Mapped[int] = mapped_column(Integer)
    # [[Japanese side's words, Canadian side's words], ...], most contributing first.
    terms: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When this pair was first proposed, carried over from run to run.
    first_proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Approved or introduced, no longer proposed by this run's scores, kept so that it is
    # not silently dropped (score and ranks are those of the run that last proposed it).
    retained: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    run: Mapped[MatchRun] = relationship()
    field: Mapped[Field] = relationship()
    jp_profile: Mapped[Profile] = relationship(foreign_keys=[jp_profile_id])
    ca_profile: Mapped[Profile] = relationship(foreign_keys=[ca_profile_id])


class ConsentEvent(Base):
    """A consent to cross-border sharing given or withdrawn, with the notice shown."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[ConsentAction] = mapped_column(_enum(ConsentAction, "consent_action"))
    notice_version: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class Interest(Base):
    """What one profile said about a proposed partner: interested, not now, or saved."""

    __tablename__ = "interests"
    __table_args__ = (UniqueConstraint("profile_id", "partner_profile_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    partner_profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[InterestState] = mapped_column(_enum(InterestState, "interest_state"))
    reason_code: Mapped[DeclineReason | None] = mapped_column(
        _enum(DeclineReason, "decline_reason")
    )
    reason_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Introduction(Base):
    """Both sides said interested: their names and contact details are shared."""

    __tablename__ = "introductions"
    __table_args__ = (UniqueConstraint("jp_profile_id", "ca_profile_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jp_profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    ca_profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[IntroductionStatus] = mapped_column(
        _enum(IntroductionStatus, "introduction_status")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    introduced_at: Mapped[datetime | None]
    approved_by: Mapped[int | None]

    jp_profile: Mapped[Profile] = relationship(foreign_keys=[jp_profile_id])
    ca_profile: Mapped[Profile] = relationship(foreign_keys=[ca_profile_id])


class OutgoingEmail(Base):
    """Mail outbox: written in the transaction that causes the message, delivered after."""

    __tablename__ = "outgoing_emails"
    __table_args__ = (Index(None, "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Not a foreign key: who it was for is kept only as long as the account (deleted with it).
    user_id: Mapped[int | None] = mapped_column(index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(40))
    locale: Mapped[Locale] = mapped_column(_enum(Locale, "locale"))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[EmailStatus] = mapped_column(
        _enum(EmailStatus, "email_status"), default=EmailStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


# The review queue reads a run's pairs best first, ties by id: this index serves that
# order directly, so a page costs a short index walk instead of a sort of the whole run.
Index("ix_matches_run_id_score_desc_id", Match.run_id, Match.score.desc(), Match.id)
# The same within a field (the queue filtered on a field, or sorted by field) ...
Index(
    "ix_matches_run_id_field_id_score_desc_id",
    Match.run_id,
    Match.field_id,
    Match.score.desc(),
    Match.id,
)
# ... and newest first.
Index(
    "ix_matches_run_id_first_proposed_at_desc",
    Match.run_id,
    Match.first_proposed_at.desc(),
    Match.score.desc(),
    Match.id,
)
# A pair's history across runs (the officer's pair page, decisions).
Index("ix_matches_jp_profile_id_ca_profile_id", Match.jp_profile_id, Match.ca_profile_id)


class ReviewStatus(enum.StrEnum):
    SHORTLISTED = "shortlisted"
    APPROVED = "approved"
    REJECTED = "rejected"


class PairReview(Base):
    """An officer's current decision on a pair (the same two profiles in any field and any
    run): it outlives the runs that proposed the pair."""

    __tablename__ = "pair_reviews"
    __table_args__ = (UniqueConstraint("jp_profile_id", "ca_profile_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jp_profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    ca_profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ReviewStatus] = mapped_column(_enum(ReviewStatus, "review_status"), index=True)
    reason_code: Mapped[ReasonCode | None] = mapped_column(_enum(ReasonCode, "reason_code"))
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None]


class PairDecision(Base):
    """Every decision and note on a pair, in order: who, when, from which state to which."""

    __tablename__ = "pair_decisions"
    __table_args__ = (Index(None, "jp_profile_id", "ca_profile_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jp_profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    ca_profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    officer_id: Mapped[int | None]
    decision: Mapped[Decision] = mapped_column(_enum(Decision, "decision"))
    reason_code: Mapped[ReasonCode | None] = mapped_column(_enum(ReasonCode, "reason_code"))
    note: Mapped[str] = mapped_column(Text, default="")
    previous_status: Mapped[str | None] = mapped_column(String(20))
    new_status: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OfficerConflict(Base):
    """An officer declared a conflict of interest with an organization: they may not
    decide on its pairs."""

    __tablename__ = "officer_conflicts"
    __table_args__ = (UniqueConstraint("officer_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship()


class GrantCall(Base):
    """A grant call run by officers, with the rules a pair must meet to be eligible."""

    __tablename__ = "grant_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    field_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    opens_on: Mapped[date]
    closes_on: Mapped[date]
    # Allowed organization kinds on each side (empty: any) and staff ceilings.
    jp_organization_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    ca_organization_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    jp_max_staff: Mapped[int | None]
    ca_max_staff: Mapped[int | None]
    excluded_terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    distinct_organizations: Mapped[bool] = mapped_column(Boolean, default=True)
    max_proposals_per_profile: Mapped[int | None]
    # Balanced introductions: partners per startup (a) and startups per researcher (b).
    startup_capacity: Mapped[int] = mapped_column(default=3)
    researcher_capacity: Mapped[int] = mapped_column(default=3)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CallProposal(Base):
    """A pair released as a proposal of a grant call (by the balanced assignment)."""

    __tablename__ = "call_proposals"
    __table_args__ = (UniqueConstraint("call_id", "jp_profile_id", "ca_profile_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("grant_calls.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(ForeignKey("fields.id", ondelete="RESTRICT"))
    jp_profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    ca_profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float] = mapped_column(Float)
    released_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_by: Mapped[int | None]


class AuditEvent(Base):
    """Append-only record of who did what; database triggers refuse UPDATE and DELETE."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # A plain id, not a foreign key: the trail must outlive the accounts it names.
    actor_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(80), index=True)
    subject_type: Mapped[str] = mapped_column(String(40), default="")
    subject_id: Mapped[str] = mapped_column(String(80), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RematchRequest(Base):
    """Outbox row: a profile changed and must be rematched. Written with the change itself."""

    __tablename__ = "rematch_requests"
    __table_args__ = (Index(None, "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Not a foreign key: a request for a deleted profile must survive to clear its pairs.
    profile_id: Mapped[int] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[RequestStatus] = mapped_column(
        _enum(RequestStatus, "request_status"), default=RequestStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]


class ApiToken(Base):
    """A personal access token for the API. Only the SHA-256 of the secret is kept (the
    secret is shown once, at creation); ``prefix`` lets its owner recognise it."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(8))
    # A subset of "read", "write" and "officer" (the last for officers and admins only).
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
