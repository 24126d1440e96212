"""Grant calls: their pair-eligibility rules, the eligible shortlist and its exports, and the
balanced release of a call's pairs as proposals.

A pair is eligible for a call when it is a pair of the live run in one of the call's fields
and meets every rule of the call (:func:`ineligibility_reasons`); of the eligible pairs,
each profile keeps at most ``max_proposals_per_profile``, its best by score
(:func:`call_pairs`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from core.errors import InvalidInput, Message, MessageList, NotFound
from core.models import (
    CallProposal,
    Field,
    GrantCall,
    Match,
    OrganizationKind,
    Profile,
    ProfileKind,
    User,
    utcnow,
)
from core.services import audit
from core.services.fields import list_fields
from core.services.matching import live_run
from matcher.assignment import Exposure, balance

MAX_TITLE_LENGTH = 300
MAX_DESCRIPTION_LENGTH = 10_000
MAX_TERMS = 50
MAX_TERM_LENGTH = 100
MAX_STAFF = 10_000_000
MAX_PROPOSALS = 1_000
MAX_CAPACITY = 100

ORGANIZATION_KINDS = frozenset(kind.value for kind in OrganizationKind)
# How an organization kind reads in a reason, in the reader's language (the same wording
# as the profile form's choices).
ORGANIZATION_KIND_LABELS = {
    OrganizationKind.STARTUP.value: Message("Startup"),
    OrganizationKind.SME.value: Message("Small or medium-sized enterprise"),
    OrganizationKind.LARGE_COMPANY.value: Message("Large company"),
    OrganizationKind.UNIVERSITY.value: Message("University"),
    OrganizationKind.PUBLIC_RESEARCH_INSTITUTE.value: Message("Public research institute"),
    OrganizationKind.OTHER.value: Message("Other"),
}


def organization_kind_label(kind: str) -> Message:
    return ORGANIZATION_KIND_LABELS.get(kind) or Message(kind)


@dataclass(frozen=True)
class CallDetails:
    """What an officer sets on a call (dates are None when the form left them empty)."""

    title: str
    field_codes: list[str]
    opens_on: date | None
    closes_on: date | None
    description: str = ""
    jp_organization_kinds: list[str] = field(default_factory=list)
    ca_organization_kinds: list[str] = field(default_factory=list)
    jp_max_staff: int | None = None
    ca_max_staff: int | None = None
    excluded_terms: list[str] = field(default_factory=list)
    distinct_organizations: bool = True
    max_proposals_per_profile: int | None = None
    startup_capacity: int = 3
    researcher_capacity: int = 3
    requires_approval: bool = False


@dataclass(frozen=True)
class CallPair:
    """One live pair in a call's fields, with why it is not eligible (empty: eligible)."""

    match: Match
    reasons: tuple[Message, ...] = ()

    @property
    def eligible(self) -> bool:
        return not self.reasons

    @property
    def jp(self) -> Profile:
        return self.match.jp_profile

    @property
    def ca(self) -> Profile:
        return self.match.ca_profile


@dataclass(frozen=True)
class AssignmentResult:
    """The balanced choice among a call's eligible pairs and how evenly it spreads them."""

    call_id: int
    candidates: list[CallPair]
    chosen: list[CallPair]
    total_score: float
    candidate_score: float
    before: Exposure
    after: Exposure

    @property
    def fingerprint(self) -> str:
        """Identifies the chosen set, so that a release can check nothing changed since."""
        return pairs_fingerprint(self.chosen)


# --- Input ----------------------------------------------------------------------------


def parse_terms(raw: str) -> list[str]:
    """Split excluded topics given one a line or comma (、) separated; trimmed, without
    duplicates (ignoring case), order kept."""
    seen: dict[str, str] = {}
    for part in re.split(r"[,\n、，;；]", raw):
        term = " ".join(part.split())
        if term:
            seen.setdefault(_normalise(term), term)
    return list(seen.values())


def validate_call(session: Session, details: CallDetails) -> dict[str, str]:
    """A message per bad field (empty when all is well)."""
    errors: dict[str, str] = {}
    title = details.title.strip()
    if not title:
        errors["title"] = Message("Give the call a title.")
    elif len(title) > MAX_TITLE_LENGTH:
        errors["title"] = Message(
            "Keep the title under %(length)s characters.", length=MAX_TITLE_LENGTH
        )
    if len(details.description) > MAX_DESCRIPTION_LENGTH:
        errors["description"] = Message(
            "Keep the description under %(length)s characters.", length=MAX_DESCRIPTION_LENGTH
        )
    known = {f.code for f in list_fields(session)}
    if not details.field_codes:
        errors["fields"] = Message("Choose at least one MOC field.")
    elif any(code not in known for code in details.field_codes):
        errors["fields"] = Message("Choose fields from the list.")
    if details.opens_on is None:
        errors["opens_on"] = Message("Enter the date the call opens.")
    if details.closes_on is None:
        errors["closes_on"] = Message("Enter the date the call closes.")
    elif details.opens_on is not None and details.closes_on <= details.opens_on:
        errors["closes_on"] = Message("The call must close after it opens.")
    for side in ("jp", "ca"):
        kinds = getattr(details, f"{side}_organization_kinds")
        if any(kind not in ORGANIZATION_KINDS for kind in kinds):
            errors[f"{side}_organization_kinds"] = Message(
                "Choose kinds of organization from the list."
            )
        staff = getattr(details, f"{side}_max_staff")
        if staff is not None and not 0 < staff <= MAX_STAFF:
            errors[f"{side}_max_staff"] = Message(
                "Enter a number of staff between 1 and 10,000,000."
            )
    if len(details.excluded_terms) > MAX_TERMS:
        errors["excluded_terms"] = Message("Give at most %(count)s topics.", count=MAX_TERMS)
    elif any(not term.strip() for term in details.excluded_terms):
        errors["excluded_terms"] = Message("Leave no topic empty.")
    elif any(len(term) > MAX_TERM_LENGTH for term in details.excluded_terms):
        errors["excluded_terms"] = Message(
            "Keep each topic under %(length)s characters.", length=MAX_TERM_LENGTH
        )
    limit = details.max_proposals_per_profile
    if limit is not None and not 0 < limit <= MAX_PROPOSALS:
        errors["max_proposals_per_profile"] = Message(
            "Enter a number between %(first)s and %(last)s.", first=1, last=MAX_PROPOSALS
        )
    for name in ("startup_capacity", "researcher_capacity"):
        if not 0 < getattr(details, name) <= MAX_CAPACITY:
            errors[name] = Message(
                "Enter a number between %(first)s and %(last)s.", first=1, last=MAX_CAPACITY
            )
    return errors


def _apply(call: GrantCall, details: CallDetails) -> None:
    assert details.opens_on is not None and details.closes_on is not None  # validated
    call.title = details.title.strip()
    call.description = details.description.strip()
    call.field_codes = list(dict.fromkeys(details.field_codes))
    call.opens_on = details.opens_on
    call.closes_on = details.closes_on
    call.jp_organization_kinds = list(dict.fromkeys(details.jp_organization_kinds))
    call.ca_organization_kinds = list(dict.fromkeys(details.ca_organization_kinds))
    call.jp_max_staff = details.jp_max_staff
    call.ca_max_staff = details.ca_max_staff
    call.excluded_terms = [" ".join(term.split()) for term in details.excluded_terms]
    call.distinct_organizations = details.distinct_organizations
    call.max_proposals_per_profile = details.max_proposals_per_profile
    call.startup_capacity = details.startup_capacity
    call.researcher_capacity = details.researcher_capacity
    call.requires_approval = details.requires_approval


def create_call(session: Session, *, officer: User, details: CallDetails) -> GrantCall:
    """Create a call and record it in the audit trail.

    InvalidInput with a message per bad field; nothing is written then.
    """
    errors = validate_call(session, details)
    if errors:
        raise InvalidInput("invalid grant call", errors)
    call = GrantCall(created_by=officer.id)
    _apply(call, details)
    session.add(call)
    session.flush()
    audit.record(
        session,
        actor_id=officer.id,
        action="call.created",
        subject_type="grant_call",
        subject_id=call.id,
    )
    return call


def update_call(
    session: Session, *, officer: User, call_id: int, details: CallDetails
) -> GrantCall:
    """Change a call's details and rules (released proposals stay until the next release).

    InvalidInput with a message per bad field; NotFound for an unknown call.
    """
    call = get_call(session, call_id)
    errors = validate_call(session, details)
    if errors:
        raise InvalidInput("invalid grant call", errors)
    _apply(call, details)
    audit.record(
        session,
        actor_id=officer.id,
        action="call.updated",
        subject_type="grant_call",
        subject_id=call.id,
    )
    return call


def details_of(call: GrantCall) -> CallDetails:
    """A call's current details, to fill an edit form."""
    return CallDetails(
        title=call.title,
        description=call.description,
        field_codes=list(call.field_codes),
        opens_on=call.opens_on,
        closes_on=call.closes_on,
        jp_organization_kinds=list(call.jp_organization_kinds),
        ca_organization_kinds=list(call.ca_organization_kinds),
        jp_max_staff=call.jp_max_staff,
        ca_max_staff=call.ca_max_staff,
        excluded_terms=list(call.excluded_terms),
        distinct_organizations=call.distinct_organizations,
        max_proposals_per_profile=call.max_proposals_per_profile,
        startup_capacity=call.startup_capacity,
        researcher_capacity=call.researcher_capacity,
        requires_approval=call.requires_approval,
    )


def list_calls(session: Session) -> list[GrantCall]:
    """Every call, the latest closing first."""
    return list(
        session.scalars(select(GrantCall).order_by(GrantCall.closes_on.desc(), GrantCall.id))
    )


def get_call(session: Session, call_id: int) -> GrantCall:
    """The call with ``call_id``; NotFound otherwise."""
    call = session.get(GrantCall, call_id)
    if call is None:
        raise NotFound(Message("There is no grant call %(id)s.", id=call_id))
    return call


def released_counts(session: Session) -> dict[int, int]:
    """Number of released proposals per call id (calls without any are left out)."""
    query = select(CallProposal.call_id, func.count()).group_by(CallProposal.call_id)
    return dict(session.execute(query).all())


def released_proposals(session: Session, call: GrantCall) -> list[CallProposal]:
    """The call's released proposals, best first."""
    query = (
        select(CallProposal)
        .where(CallProposal.call_id == call.id)
        .order_by(CallProposal.score.desc(), CallProposal.jp_profile_id, CallProposal.ca_profile_id)
    )
    return list(session.scalars(query))


# --- Eligibility ----------------------------------------------------------------------

# Scripts written without spaces between words: a topic in them matches as a substring.
_CJK = "\u3005\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
_CJK_CHAR = re.compile(f"[{_CJK}]")
# A letter or digit of a script that separates words with spaces (not CJK).
_NOT_SPACED_WORD = f"[^\\W{_CJK}]"
# A topic matches across spaces or hyphens between its words: "drug discovery" also finds
# "drug-discovery".
_GAP = r"[\s\-‐‑–]+"
_LEGAL_FORMS = frozenset(
    "inc incorporated ltd limited llc llp lp corp corporation co company kk gk plc gmbh "
    "sa sas ag ulc ltee ltée".split()
)
_JAPANESE_LEGAL_FORMS = ("株式会社", "有限会社", "合同会社", "合資会社", "(株)", "(有)")


def _normalise(text: str) -> str:
    # NFKC folds full-width Latin and half-width kana; casefold is a thorough lower().
    return unicodedata.normalize("NFKC", text).casefold()


@lru_cache(maxsize=256)
def _term_patterns(terms: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """A pattern per excluded topic: substring for Japanese and Chinese characters, whole
    words for spaced scripts ("nuclear" does not match "nucleation")."""
    patterns = []
    for term in terms:
        words = [w for w in re.split(_GAP, _normalise(term).strip()) if w]
        if not words:
            continue
        body = _GAP.join(re.escape(word) for word in words)
        first, last = words[0][0], words[-1][-1]
        # A boundary only where the topic's edge is a letter of a spaced script.
        if first.isalnum() and not _CJK_CHAR.match(first):
            body = f"(?<!{_NOT_SPACED_WORD})" + body
        if last.isalnum() and not _CJK_CHAR.match(last):
            body = body + f"(?!{_NOT_SPACED_WORD})"
        patterns.append((term, re.compile(body)))
    return tuple(patterns)


def excluded_terms_in(terms: Sequence[str], texts: Iterable[str]) -> list[str]:
    """The ``terms`` found in ``texts``, ignoring case and width (see :func:`_term_patterns`)."""
    text = _normalise("\n".join(texts))
    return [term for term, pattern in _term_patterns(tuple(terms)) if pattern.search(text)]


def profile_texts(profile: Profile) -> list[str]:
    """What excluded topics are looked for in: title, summary and keywords."""
    return [profile.title, profile.summary, *profile.keywords]


def normalise_organization_name(name: str) -> str:
    """The name without case, punctuation, leading "the" or legal form ("Sakura Quantum
    K.K." and "sakura quantum inc" are the same)."""
    text = _normalise(name)
    for form in _JAPANESE_LEGAL_FORMS:
        text = text.replace(form, " ")
    words = re.findall(r"\w+", text.replace(".", ""))
    core = list(words)
    while core and core[-1] in _LEGAL_FORMS:
        core.pop()
    if core and core[0] == "the":
        core.pop(0)
    return " ".join(core or words)


def website_host(url: str | None) -> str | None:
    """The host of a website address without "www." (None when there is none)."""
    if not url or not url.strip():
        return None
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".").removeprefix("www.")
    return host or None


class _Rules:
    """A call's pairwise rules, with per-profile results kept for reuse across pairs."""

    def __init__(self, call: GrantCall) -> None:
        self.call = call
        self.terms = tuple(call.excluded_terms)
        self.fields = frozenset(call.field_codes)
        self._found: dict[Profile, list[str]] = {}

    def _terms_in(self, profile: Profile) -> list[str]:
        if profile not in self._found:
            self._found[profile] = excluded_terms_in(self.terms, profile_texts(profile))
        return self._found[profile]

    def reasons(self, jp: Profile, ca: Profile, field_code: str | None) -> list[Message]:
        call = self.call
        reasons: list[Message] = []
        if field_code is not None and field_code not in self.fields:
            reasons.append(Message("The pair's field is not one of the call's fields."))
        if jp.consent_at is None:
            reasons.append(Message("The Japanese profile no longer consents to sharing."))
        if ca.consent_at is None:
            reasons.append(Message("The Canadian profile no longer consents to sharing."))
        jp_org, ca_org = jp.organization, ca.organization
        if call.jp_organization_kinds and jp_org.kind.value not in call.jp_organization_kinds:
            reasons.append(
                Message(
                    "The Japanese organization is of kind %(kind)s; the call accepts %(kinds)s.",
                    kind=organization_kind_label(jp_org.kind.value),
                    kinds=MessageList(map(organization_kind_label, call.jp_organization_kinds)),
                )
            )
        if call.ca_organization_kinds and ca_org.kind.value not in call.ca_organization_kinds:
            reasons.append(
                Message(
                    "The Canadian organization is of kind %(kind)s; the call accepts %(kinds)s.",
                    kind=organization_kind_label(ca_org.kind.value),
                    kinds=MessageList(map(organization_kind_label, call.ca_organization_kinds)),
                )
            )
        if call.jp_max_staff is not None:
            if jp_org.staff_count is None:
                reasons.append(
                    Message(
                        "The Japanese organization's staff count is unknown; the call allows "
                        "at most %(max)s.",
                        max=call.jp_max_staff,
                    )
                )
            elif jp_org.staff_count > call.jp_max_staff:
                reasons.append(
                    Message(
                        "The Japanese organization has %(staff)s staff; the call allows at "
                        "most %(max)s.",
                        staff=jp_org.staff_count,
                        max=call.jp_max_staff,
                    )
                )
        if call.ca_max_staff is not None:
            if ca_org.staff_count is None:
                reasons.append(
                    Message(
                        "The Canadian organization's staff count is unknown; the call allows "
                        "at most %(max)s.",
                        max=call.ca_max_staff,
                    )
                )
            elif ca_org.staff_count > call.ca_max_staff:
                reasons.append(
                    Message(
                        "The Canadian organization has %(staff)s staff; the call allows at "
                        "most %(max)s.",
                        staff=ca_org.staff_count,
                        max=call.ca_max_staff,
                    )
                )
        if self.terms:
            if found := self._terms_in(jp):
                reasons.append(
                    Message(
                        "The Japanese profile mentions excluded topics: %(terms)s.",
                        terms=", ".join(found),
                    )
                )
            if found := self._terms_in(ca):
                reasons.append(
                    Message(
                        "The Canadian profile mentions excluded topics: %(terms)s.",
                        terms=", ".join(found),
                    )
                )
        if call.distinct_organizations:
            reasons.extend(_related_organizations(jp, ca))
        return reasons


def _related_organizations(jp: Profile, ca: Profile) -> list[Message]:
    jp_org, ca_org = jp.organization, ca.organization
    if jp_org is ca_org or (jp_org.id is not None and jp_org.id == ca_org.id):
        return [Message("Both profiles belong to the same organization.")]
    reasons = []
    name = normalise_organization_name(jp_org.name)
    if name and name == normalise_organization_name(ca_org.name):
        reasons.append(Message("The two organizations have the same name (%(name)s).", name=name))
    host = website_host(jp_org.website)
    if host and host == website_host(ca_org.website):
        reasons.append(Message("The two organizations share the website %(host)s.", host=host))
    return reasons


def ineligibility_reasons(
    call: GrantCall, jp: Profile, ca: Profile, *, field_code: str | None = None
) -> list[Message]:
    """Why the pair (jp, ca) fails the call's pairwise rules, one message per failed rule;
    empty when it is eligible. ``field_code`` (the pair's field) is checked when given.

    The per-profile maximum of proposals depends on the call's other pairs: see
    :func:`call_pairs`.
    """
    return _Rules(call).reasons(jp, ca, field_code)


def eligible_calls_for(
    session: Session, pairs: Sequence[Match], *, active_on: date | None = None
) -> dict[int, list[GrantCall]]:
    """For each match id, the calls (by id) whose fields include the match's field and whose
    pairwise rules it meets; with ``active_on``, only calls open on that date.

    One query for the calls (and one for the field codes); the rules run in Python on the
    matches' profiles and organizations, so load those with the matches (selectinload).
    The per-profile maximum of a call is not applied here (it ranks the call's whole pool);
    the call's own page shows it.
    """
    query = select(GrantCall).order_by(GrantCall.id)
    if active_on is not None:
        query = query.where(GrantCall.opens_on <= active_on, GrantCall.closes_on >= active_on)
    calls = list(session.scalars(query))
    result: dict[int, list[GrantCall]] = {match.id: [] for match in pairs}
    if not calls or not pairs:
        return result
    codes = dict(session.execute(select(Field.id, Field.code)).all())
    rules = [_Rules(call) for call in calls]
    for match in pairs:
        code = codes.get(match.field_id)
        for rule in rules:
            if code in rule.fields and not rule.reasons(match.jp_profile, match.ca_profile, code):
                result[match.id].append(rule.call)
    return result


def call_pairs(session: Session, call: GrantCall, *, include_ineligible: bool) -> list[CallPair]:
    """The live run's pairs in the call's fields, best first (score desc, then ids), each
    pair of profiles once (in the field where it scores best), with why it is not eligible.

    A profile keeps at most ``call.max_proposals_per_profile`` eligible pairs: its best by
    score; a pair outside the best of either of its profiles gets that as its reason.
    """
    live = live_run(session)
    if live is None or not call.field_codes:
        return []
    organization = selectinload(Profile.organization)
    query = (
        select(Match)
        .join(Field, Field.id == Match.field_id)
        .where(Match.run_id == live.id, Field.code.in_(call.field_codes))
        .options(
            selectinload(Match.jp_profile).options(organization),
            selectinload(Match.ca_profile).options(organization),
            selectinload(Match.field),
        )
        .order_by(Match.score.desc(), Match.jp_profile_id, Match.ca_profile_id, Field.position)
    )
    rules = _Rules(call)
    seen: set[tuple[int, int]] = set()
    pairs: list[CallPair] = []
    for match in session.scalars(query):
        key = (match.jp_profile_id, match.ca_profile_id)
        if key in seen:
            continue
        seen.add(key)
        reasons = rules.reasons(match.jp_profile, match.ca_profile, match.field.code)
        pairs.append(CallPair(match=match, reasons=tuple(reasons)))
    pairs = _apply_proposal_limit(pairs, call.max_proposals_per_profile)
    if include_ineligible:
        return pairs
    return [pair for pair in pairs if pair.eligible]


def _apply_proposal_limit(pairs: list[CallPair], limit: int | None) -> list[CallPair]:
    """Keep a pair only if it is among the ``limit`` best eligible pairs of both its
    profiles (``pairs`` come best first)."""
    if limit is None:
        return pairs
    rank_jp: dict[int, int] = defaultdict(int)
    rank_ca: dict[int, int] = defaultdict(int)
    limited = []
    for pair in pairs:
        if not pair.eligible:
            limited.append(pair)
            continue
        jp_id, ca_id = pair.match.jp_profile_id, pair.match.ca_profile_id
        rank_jp[jp_id] += 1
        rank_ca[ca_id] += 1
        reasons = []
        if rank_jp[jp_id] > limit:
            reasons.append(
                Message(
                    "Not among the Japanese profile's %(max)s best pairs in this call.", max=limit
                )
            )
        if rank_ca[ca_id] > limit:
            reasons.append(
                Message(
                    "Not among the Canadian profile's %(max)s best pairs in this call.", max=limit
                )
            )
        limited.append(CallPair(match=pair.match, reasons=tuple(reasons)) if reasons else pair)
    return limited


def calls_requiring_approval(
    session: Session, jp_profile_id: int, ca_profile_id: int
) -> list[GrantCall]:
    """The calls that require an officer's approval and have released this pair as a
    proposal, by id (empty: the pair's introduction need not wait for a call)."""
    query = (
        select(GrantCall)
        .join(CallProposal, CallProposal.call_id == GrantCall.id)
        .where(
            GrantCall.requires_approval.is_(True),
            CallProposal.jp_profile_id == jp_profile_id,
            CallProposal.ca_profile_id == ca_profile_id,
        )
        .order_by(GrantCall.id)
    )
    return list(session.scalars(query).unique())


# --- Export ---------------------------------------------------------------------------

EXPORT_COLUMNS: tuple[tuple[str, Message], ...] = (
    ("field", Message("Field")),
    ("score", Message("Score")),
    ("jp_profile_id", Message("Japanese profile id")),
    ("jp_title", Message("Japanese profile title")),
    ("jp_kind", Message("Japanese profile kind")),
    ("jp_organization", Message("Japanese organization")),
    ("jp_organization_kind", Message("Japanese organization kind")),
    ("jp_staff", Message("Japanese organization staff")),
    ("jp_region", Message("Japanese region")),
    ("jp_website", Message("Japanese website")),
    ("jp_contact_name", Message("Japanese contact name")),
    ("jp_contact_email", Message("Japanese contact email")),
    ("ca_profile_id", Message("Canadian profile id")),
    ("ca_title", Message("Canadian profile title")),
    ("ca_kind", Message("Canadian profile kind")),
    ("ca_organization", Message("Canadian organization")),
    ("ca_organization_kind", Message("Canadian organization kind")),
    ("ca_staff", Message("Canadian organization staff")),
    ("ca_region", Message("Canadian region")),
    ("ca_website", Message("Canadian website")),
    ("ca_contact_name", Message("Canadian contact name")),
    ("ca_contact_email", Message("Canadian contact email")),
)

ExportRow = dict[str, str | int | float | None]


def _party(prefix: str, profile: Profile) -> ExportRow:
    organization = profile.organization
    return {
        f"{prefix}_profile_id": profile.id,
        f"{prefix}_title": profile.title,
        f"{prefix}_kind": profile.kind.value,
        f"{prefix}_organization": organization.name,
        f"{prefix}_organization_kind": organization.kind.value,
        f"{prefix}_staff": organization.staff_count,
        f"{prefix}_region": profile.region,
        f"{prefix}_website": organization.website or "",
        f"{prefix}_contact_name": profile.contact_name,
        f"{prefix}_contact_email": profile.contact_email,
    }


def export_rows(
    session: Session, call: GrantCall, *, locale: str = "en", exported_by: User | None = None
) -> list[ExportRow]:
    """The call's eligible shortlist with both parties' details, best first, keyed by the
    names in :data:`EXPORT_COLUMNS`. Only pairs whose two profiles have consented to
    sharing: never a profile without consent, whatever the rules say. An export by an
    officer (personal data leaving the service) is written to the audit trail."""
    rows = []
    for pair in call_pairs(session, call, include_ineligible=False):
        if pair.jp.consent_at is None or pair.ca.consent_at is None:
            continue
        row: ExportRow = {
            "field": pair.match.field.label(locale),
            "score": round(pair.match.score, 4),
        }
        row.update(_party("jp", pair.jp))
        row.update(_party("ca", pair.ca))
        rows.append(row)
    if exported_by is not None:
        audit.record(
            session,
            actor_id=exported_by.id,
            action="call.exported",
            subject_type="grant_call",
            subject_id=call.id,
            details={"rows": len(rows)},
        )
    return rows


# Spreadsheets run a cell starting with these as a formula: a profile's title must not.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _cell(value: str | int | float | None) -> str | int | float | None:
    if isinstance(value, str):
        value = _ILLEGAL_XML.sub("", value)
        if value.startswith(_FORMULA_START):
            return "'" + value
    return value


def _header(labels: Mapping[str, str] | None) -> list[str]:
    return [str((labels or {}).get(key, label)) for key, label in EXPORT_COLUMNS]


def write_csv(rows: Sequence[ExportRow], *, labels: Mapping[str, str] | None = None) -> bytes:
    """UTF-8 CSV (with a byte order mark, so that spreadsheets read Japanese right): a header
    row of ``labels`` (column key -> label; English by default), then one row per pair."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_header(labels))
    for row in rows:
        cells = [_cell(row.get(key)) for key, _ in EXPORT_COLUMNS]
        writer.writerow(["" if cell is None else cell for cell in cells])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write_xlsx(
    rows: Sequence[ExportRow],
    *,
    labels: Mapping[str, str] | None = None,
    sheet_title: str = "Shortlist",
) -> bytes:
    """An .xlsx workbook with one sheet: the header row, then one row per pair; every text
    is stored as text (never as a formula)."""
    from openpyxl import Workbook  # type: ignore[import-untyped]

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_ILLEGAL_XML.sub("", sheet_title)[:31] or "Sheet")
    sheet.append(_header(labels))
    for row in rows:
        sheet.append([_cell(row.get(key)) for key, _ in EXPORT_COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- Balanced introductions -----------------------------------------------------------


def capacity_of(call: GrantCall, profile: Profile) -> int:
    """How many proposals of the call a profile may get: a for startups, b for researchers."""
    if profile.kind == ProfileKind.STARTUP:
        return call.startup_capacity
    return call.researcher_capacity


def balanced_assignment(session: Session, call: GrantCall) -> AssignmentResult:
    """The exact best-scoring subset of the call's eligible pairs in which no profile
    exceeds its capacity (:func:`capacity_of`), with the spread of proposals per profile
    before (every eligible pair) and after."""
    candidates = call_pairs(session, call, include_ineligible=False)
    jp_nodes: dict[int, int] = {}
    ca_nodes: dict[int, int] = {}
    jp_capacity: list[int] = []
    ca_capacity: list[int] = []
    jp_index, ca_index, scores = [], [], []
    for pair in candidates:
        if pair.jp.id not in jp_nodes:
            jp_nodes[pair.jp.id] = len(jp_capacity)
            jp_capacity.append(capacity_of(call, pair.jp))
        if pair.ca.id not in ca_nodes:
            ca_nodes[pair.ca.id] = len(ca_capacity)
            ca_capacity.append(capacity_of(call, pair.ca))
        jp_index.append(jp_nodes[pair.jp.id])
        ca_index.append(ca_nodes[pair.ca.id])
        scores.append(pair.match.score)
    assignment = balance(jp_index, ca_index, scores, jp_capacity, ca_capacity)
    return AssignmentResult(
        call_id=call.id,
        candidates=candidates,
        chosen=[candidates[e] for e in assignment.chosen],
        total_score=assignment.total_score,
        candidate_score=assignment.candidate_score,
        before=assignment.before,
        after=assignment.after,
    )


def pairs_fingerprint(pairs: Iterable[CallPair]) -> str:
    """A short digest of a set of pairs (their profile ids and fields)."""
    keys = sorted((p.match.jp_profile_id, p.match.ca_profile_id, p.match.field_id) for p in pairs)
    return hashlib.sha256(repr(keys).encode()).hexdigest()[:16]


def release_assignment(
    session: Session, call: GrantCall, officer: User, pairs: Sequence[CallPair]
) -> int:
    """Release ``pairs`` as the call's proposals, replacing its previous release in the
    caller's unit of work, and record it in the audit trail. Safe to run twice.

    Returns the number of proposals released. InvalidInput when a pair is not eligible.
    """
    if any(not pair.eligible for pair in pairs):
        raise InvalidInput(
            "ineligible pair", {"pairs": Message("Only eligible pairs can be released.")}
        )
    unique = {(p.match.jp_profile_id, p.match.ca_profile_id): p for p in pairs}
    previous = session.scalar(
        select(func.count()).select_from(CallProposal).where(CallProposal.call_id == call.id)
    )
    session.execute(delete(CallProposal).where(CallProposal.call_id == call.id))
    now = utcnow()
    for (jp_id, ca_id), pair in unique.items():
        session.add(
            CallProposal(
                call_id=call.id,
                field_id=pair.match.field_id,
                jp_profile_id=jp_id,
                ca_profile_id=ca_id,
                score=pair.match.score,
                released_at=now,
                released_by=officer.id,
            )
        )
    session.flush()
    audit.record(
        session,
        actor_id=officer.id,
        action="call.released",
        subject_type="grant_call",
        subject_id=call.id,
        details={
            "proposals": len(unique),
            "replaced": previous or 0,
            "total_score": round(sum(p.match.score for p in unique.values()), 6),
        },
    )
    return len(unique)
