"""Grant calls at the service level: rules, the call's pairs, exports and the release."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import InvalidInput, Message, NotFound
from core.models import (
    AuditEvent,
    CallProposal,
    Country,
    GrantCall,
    Organization,
    OrganizationKind,
    Profile,
    ProfileKind,
    Role,
    User,
    utcnow,
)
from core.services import calls, matching
from core.services.calls import CallDetails
from core.services.profiles import ProfileChanges, create_profile
from tests.factories import make_organization, make_user

SUMMARY = (
    "Superconducting qubit control electronics with cryogenic CMOS for quantum processors "
    "and qubit readout."
)


# --- Builders -------------------------------------------------------------------------


def _call(**overrides: Any) -> GrantCall:
    """An unsaved call with no restrictions but those given."""
    values: dict[str, Any] = {
        "title": "Quantum call",
        "description": "",
        "field_codes": ["quantum"],
        "opens_on": date(2026, 1, 1),
        "closes_on": date(2026, 6, 30),
        "jp_organization_kinds": [],
        "ca_organization_kinds": [],
        "jp_max_staff": None,
        "ca_max_staff": None,
        "excluded_terms": [],
        "distinct_organizations": True,
        "max_proposals_per_profile": None,
        "startup_capacity": 3,
        "researcher_capacity": 3,
        "requires_approval": False,
    }
    values.update(overrides)
    return GrantCall(**values)


def _org(country: Country, **overrides: Any) -> Organization:
    values: dict[str, Any] = {
        "name": f"Organization in {country.value}",
        "kind": OrganizationKind.UNIVERSITY,
        "staff_count": 100,
        "website": None,
    }
    values.update(overrides)
    return Organization(country=country, **values)


def _profile(
    country: Country,
    organization: Organization | None = None,
    *,
    title: str = "Quantum sensing",
    summary: str = "Quantum sensors for navigation.",
    keywords: list[str] | None = None,
    consented: bool = True,
) -> Profile:
    """An unsaved profile: the pairwise rules need no database."""
    return Profile(
        organization=organization or _org(country),
        kind=ProfileKind.RESEARCHER,
        country=country,
        region="JP-13" if country == Country.JP else "CA-ON",
        title=title,
        summary=summary,
        keywords=keywords or [],
        consent_at=utcnow() if consented else None,
    )


def _details(**overrides: Any) -> CallDetails:
    values: dict[str, Any] = {
        "title": "Quantum startups with Canadian SMEs",
        "field_codes": ["quantum"],
        "opens_on": date(2026, 1, 1),
        "closes_on": date(2026, 6, 30),
    }
    values.update(overrides)
    return CallDetails(**values)


def _officer(session: Session) -> User:
    return make_user(session, role=Role.OFFICER)


def _isolated_pairs(session: Session, *, canadians: int = 3) -> tuple[Profile, list[Profile]]:
    """One Japanese and several Canadian profiles of organizations of kind "other" (the
    demo world has none), paired in the live run in the quantum field."""

    def make(country: Country, number: int, kind: ProfileKind) -> Profile:
        return create_profile(
            session,
            organization=make_organization(
                session, country, kind=OrganizationKind.OTHER, staff_count=20 + number
            ),
            kind=kind,
            region="JP-13" if country == Country.JP else "CA-ON",
            changes=ProfileChanges(
                title=f"Cryogenic qubit control {country.value} {number}",
                summary=SUMMARY,
                field_codes=["quantum"],
            ),
            contact_name=f"Contact {country.value} {number}",
            contact_email=f"contact.{country.value.lower()}{number}@tests.example",
            consent_version="test",
        )

    jp = make(Country.JP, 0, ProfileKind.STARTUP)
    cas = [make(Country.CA, n, ProfileKind.RESEARCHER) for n in range(canadians)]
    matching.rematch_profile(session, profile_id=jp.id, top_k=20)
    return jp, cas


def _only_other_kinds(session: Session, **overrides: Any) -> GrantCall:
    return calls.create_call(
        session,
        officer=_officer(session),
        details=_details(
            jp_organization_kinds=["other"], ca_organization_kinds=["other"], **overrides
        ),
    )


def _msgids(reasons: list[Message] | tuple[Message, ...]) -> list[str]:
    return [reason.msgid for reason in reasons]


# --- Creating calls -------------------------------------------------------------------


def test_create_call_stores_rules_and_audits(session: Session) -> None:
    officer = _officer(session)
    call = calls.create_call(
        session,
        officer=officer,
        details=_details(
            jp_organization_kinds=["startup", "sme"],
            ca_organization_kinds=["sme"],
            ca_max_staff=500,
            excluded_terms=calls.parse_terms("nuclear, drug discovery\n原子力、Nuclear"),
            max_proposals_per_profile=5,
            requires_approval=True,
        ),
    )
    assert calls.get_call(session, call.id) is call
    assert call.excluded_terms == ["nuclear", "drug discovery", "原子力"]
    assert (call.ca_max_staff, call.max_proposals_per_profile) == (500, 5)
    assert call.created_by == officer.id and call.requires_approval
    assert call in calls.list_calls(session)
    event = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "call.created", AuditEvent.subject_id == str(call.id)
        )
    )
    assert event is not None and event.actor_id == officer.id


def test_create_call_reports_every_bad_field_and_writes_nothing(session: Session) -> None:
    before = session.scalar(select(func.count()).select_from(GrantCall))
    details = _details(
        title=" ",
        field_codes=["astrology"],
        opens_on=date(2026, 6, 30),
        closes_on=date(2026, 6, 30),
        jp_organization_kinds=["guild"],
        ca_max_staff=0,
        max_proposals_per_profile=0,
        startup_capacity=0,
        excluded_terms=["x" * 101],
    )
    with pytest.raises(InvalidInput) as raised:
        calls.create_call(session, officer=_officer(session), details=details)
    errors = raised.value.errors
    assert set(errors) == {
        "title",
        "fields",
        "closes_on",
        "jp_organization_kinds",
        "ca_max_staff",
        "max_proposals_per_profile",
        "startup_capacity",
        "excluded_terms",
    }
    assert all(isinstance(message, Message) for message in errors.values())
    closes = errors["closes_on"]
    assert isinstance(closes, Message) and closes.msgid == "The call must close after it opens."
    assert session.scalar(select(func.count()).select_from(GrantCall)) == before


def test_create_call_needs_both_dates(session: Session) -> None:
    with pytest.raises(InvalidInput) as raised:
        calls.create_call(
            session,
            officer=_officer(session),
            details=_details(opens_on=None, closes_on=None, field_codes=[]),
        )
    assert set(raised.value.errors) == {"opens_on", "closes_on", "fields"}


def test_update_call_changes_rules(session: Session) -> None:
    officer = _officer(session)
    call = calls.create_call(session, officer=officer, details=_details())
    calls.update_call(
        session,
        officer=officer,
        call_id=call.id,
        details=_details(title="Renamed", excluded_terms=["nuclear"]),
    )
    assert (call.title, call.excluded_terms) == ("Renamed", ["nuclear"])
    assert calls.details_of(call).title == "Renamed"


def test_get_call_raises_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        calls.get_call(session, 987654)


# --- Pairwise rules -------------------------------------------------------------------


def test_ineligibility_reasons_empty_for_an_eligible_pair() -> None:
    assert calls.ineligibility_reasons(_call(), _profile(Country.JP), _profile(Country.CA)) == []


def test_ineligibility_reasons_checks_organization_kinds_on_each_side() -> None:
    call = _call(jp_organization_kinds=["startup", "sme"], ca_organization_kinds=["sme"])
    startup = _profile(Country.JP, _org(Country.JP, kind=OrganizationKind.STARTUP))
    university = _profile(Country.JP, _org(Country.JP, kind=OrganizationKind.UNIVERSITY))
    sme = _profile(Country.CA, _org(Country.CA, kind=OrganizationKind.SME))
    ca_startup = _profile(Country.CA, _org(Country.CA, kind=OrganizationKind.STARTUP))
    assert calls.ineligibility_reasons(call, startup, sme) == []
    reasons = calls.ineligibility_reasons(call, university, ca_startup)
    assert reasons == [
        "The Japanese organization is of kind University; the call accepts Startup, "
        "Small or medium-sized enterprise.",
        "The Canadian organization is of kind Startup; the call accepts "
        "Small or medium-sized enterprise.",
    ]
    # Each kind is a message of its own, so that the reason reads in the reader's language.
    assert reasons[0].params["kind"].msgid == "University"
    assert [m.msgid for m in reasons[0].params["kinds"].items] == [
        "Startup",
        "Small or medium-sized enterprise",
    ]


def test_ineligibility_reasons_checks_staff_ceilings() -> None:
    call = _call(ca_max_staff=500)
    jp = _profile(Country.JP)

    def reasons(staff: int | None) -> list[Message]:
        return calls.ineligibility_reasons(
            call, jp, _profile(Country.CA, _org(Country.CA, staff_count=staff))
        )

    assert reasons(500) == []
    assert reasons(501) == ["The Canadian organization has 501 staff; the call allows at most 500."]
    assert reasons(501)[0].params == {"staff": 501, "max": 500}
    assert _msgids(reasons(None)) == [
        "The Canadian organization's staff count is unknown; the call allows at most %(max)s."
    ]
    japanese_limit = _call(jp_max_staff=50)
    assert _msgids(calls.ineligibility_reasons(japanese_limit, jp, _profile(Country.CA))) == [
        "The Japanese organization has %(staff)s staff; the call allows at most %(max)s."
    ]


@pytest.mark.parametrize(
    ("text", "term", "excluded"),
    [
        ("Nuclear fusion blanket materials", "nuclear", True),  # case-insensitive
        ("Crystal nucleation in batteries", "nuclear", False),  # whole words only
        ("Antinuclear antibody assays", "nuclear", False),
        ("AI-driven drug-discovery platform", "drug discovery", True),
        ("Drug discoveries in oncology", "drug discovery", False),
        ("原子力発電所の点検ロボット", "原子力", True),  # Japanese: anywhere in the text
        ("量子センサーと原子力の安全", "原子力", True),
        ("nuclear技術の安全評価", "nuclear", True),  # English word next to Japanese
        ("ＮＵＣＬＥＡＲ safety", "nuclear", True),  # full-width letters
        ("Quantum sensors for navigation", "原子力", False),
    ],
)
def test_ineligibility_reasons_matches_excluded_terms(text: str, term: str, excluded: bool) -> None:
    call = _call(excluded_terms=[term])
    reasons = calls.ineligibility_reasons(
        call, _profile(Country.JP, summary=text), _profile(Country.CA)
    )
    assert bool(reasons) is excluded
    if excluded:
        assert reasons == [f"The Japanese profile mentions excluded topics: {term}."]


def test_ineligibility_reasons_looks_in_title_and_keywords_of_both_profiles() -> None:
    call = _call(excluded_terms=["nuclear", "創薬"])
    jp = _profile(Country.JP, keywords=["AI創薬", "量子"])
    ca = _profile(Country.CA, title="Nuclear medicine imaging")
    assert calls.ineligibility_reasons(call, jp, ca) == [
        "The Japanese profile mentions excluded topics: 創薬.",
        "The Canadian profile mentions excluded topics: nuclear.",
    ]


def test_ineligibility_reasons_refuses_the_same_or_related_organizations() -> None:
    call = _call()
    shared = _org(Country.JP)
    same = calls.ineligibility_reasons(
        call, _profile(Country.JP, shared), _profile(Country.CA, shared)
    )
    assert same == ["Both profiles belong to the same organization."]

    named = calls.ineligibility_reasons(
        call,
        _profile(Country.JP, _org(Country.JP, name="Sakura Quantum K.K.")),
        _profile(Country.CA, _org(Country.CA, name="SAKURA QUANTUM, Inc.")),
    )
    assert named == ["The two organizations have the same name (sakura quantum)."]

    hosted = calls.ineligibility_reasons(
        call,
        _profile(Country.JP, _org(Country.JP, name="A", website="https://www.sakura.example/jp")),
        _profile(Country.CA, _org(Country.CA, name="B", website="http://Sakura.example")),
    )
    assert hosted == ["The two organizations share the website sakura.example."]

    unrelated = calls.ineligibility_reasons(
        call,
        _profile(Country.JP, _org(Country.JP, name="A", website="https://a.example")),
        _profile(Country.CA, _org(Country.CA, name="B", website="https://b.example")),
    )
    assert unrelated == []


def test_ineligibility_reasons_allows_related_organizations_when_the_call_does() -> None:
    shared = _org(Country.JP)
    call = _call(distinct_organizations=False)
    assert (
        calls.ineligibility_reasons(
            call, _profile(Country.JP, shared), _profile(Country.CA, shared)
        )
        == []
    )


def test_ineligibility_reasons_gives_one_message_per_failed_rule() -> None:
    call = _call(ca_organization_kinds=["sme"], ca_max_staff=10, excluded_terms=["nuclear"])
    ca = _profile(
        Country.CA, _org(Country.CA, staff_count=20), summary="Nuclear safety", consented=False
    )
    reasons = calls.ineligibility_reasons(
        call, _profile(Country.JP), ca, field_code="semiconductors"
    )
    assert _msgids(reasons) == [
        "The pair's field is not one of the call's fields.",
        "The Canadian profile no longer consents to sharing.",
        "The Canadian organization is of kind %(kind)s; the call accepts %(kinds)s.",
        "The Canadian organization has %(staff)s staff; the call allows at most %(max)s.",
        "The Canadian profile mentions excluded topics: %(terms)s.",
    ]


def test_normalise_organization_name_and_website_host() -> None:
    assert calls.normalise_organization_name("The Sakura Quantum Co., Ltd.") == "sakura quantum"
    assert calls.normalise_organization_name("株式会社さくら量子") == "さくら量子"
    assert calls.normalise_organization_name("Inc.") == "inc"
    assert calls.website_host("sakura.example/path") == "sakura.example"
    assert calls.website_host("https://WWW.Sakura.example:8443/") == "sakura.example"
    assert calls.website_host("") is None and calls.website_host(None) is None


# --- The call's pairs -----------------------------------------------------------------


def test_call_pairs_lists_live_pairs_of_the_call_fields_with_reasons(session: Session) -> None:
    jp, cas = _isolated_pairs(session)
    call = _only_other_kinds(session)
    everything = calls.call_pairs(session, call, include_ineligible=True)
    eligible = calls.call_pairs(session, call, include_ineligible=False)
    assert {(p.jp.id, p.ca.id) for p in eligible} == {(jp.id, ca.id) for ca in cas}
    assert len(everything) > len(eligible)
    assert all(p.match.field.code == "quantum" for p in everything)
    assert all(
        p.reasons for p in everything if (p.jp.id, p.ca.id) not in {(jp.id, c.id) for c in cas}
    )
    # Best first, each pair of profiles once.
    scores = [p.match.score for p in everything]
    assert scores == sorted(scores, reverse=True)
    assert len({(p.jp.id, p.ca.id) for p in everything}) == len(everything)


def test_call_pairs_keeps_each_profiles_best_pairs_up_to_the_maximum(session: Session) -> None:
    jp, cas = _isolated_pairs(session, canadians=3)
    call = _only_other_kinds(session, max_proposals_per_profile=2)
    mine = [p for p in calls.call_pairs(session, call, include_ineligible=True) if p.jp.id == jp.id]
    ours = [p for p in mine if p.ca.id in {c.id for c in cas}]
    assert [p.eligible for p in ours] == [True, True, False]
    assert ours[2].reasons == ("Not among the Japanese profile's 2 best pairs in this call.",)
    assert ours[0].match.score >= ours[1].match.score >= ours[2].match.score


def test_call_pairs_maximum_holds_on_the_demo_world(session: Session) -> None:
    limit = 2
    unlimited = calls.create_call(session, officer=_officer(session), details=_details())
    limited = calls.create_call(
        session, officer=_officer(session), details=_details(max_proposals_per_profile=limit)
    )
    pool = calls.call_pairs(session, unlimited, include_ineligible=False)
    # Expected: a pair is kept when it is among the `limit` best of both its profiles.
    seen_jp: Counter[int] = Counter()
    seen_ca: Counter[int] = Counter()
    expected = set()
    for pair in pool:
        seen_jp[pair.jp.id] += 1
        seen_ca[pair.ca.id] += 1
        if seen_jp[pair.jp.id] <= limit and seen_ca[pair.ca.id] <= limit:
            expected.add((pair.jp.id, pair.ca.id))
    kept = calls.call_pairs(session, limited, include_ineligible=False)
    assert {(p.jp.id, p.ca.id) for p in kept} == expected
    assert max(Counter(p.jp.id for p in kept).values()) <= limit
    assert max(Counter(p.ca.id for p in kept).values()) <= limit
    assert len(kept) < len(pool)


def test_eligible_calls_for_lists_the_calls_each_match_meets(session: Session) -> None:
    _isolated_pairs(session)
    open_call = _only_other_kinds(session)
    excluding = _only_other_kinds(session, excluded_terms=["qubit"])
    semiconductors = calls.create_call(
        session, officer=_officer(session), details=_details(field_codes=["semiconductors"])
    )
    matches = [p.match for p in calls.call_pairs(session, open_call, include_ineligible=False)]
    found = calls.eligible_calls_for(session, matches)
    assert set(found) == {m.id for m in matches}
    for match in matches:
        assert open_call in found[match.id]
        assert excluding not in found[match.id] and semiconductors not in found[match.id]
    closed = calls.eligible_calls_for(session, matches, active_on=date(2030, 1, 1))
    assert all(calls_found == [] for calls_found in closed.values())


# --- Export ---------------------------------------------------------------------------


def test_export_rows_hold_only_consented_profiles(session: Session) -> None:
    jp, cas = _isolated_pairs(session)
    call = _only_other_kinds(session)
    withdrawn = cas[0]
    withdrawn.consent_at = None  # withdrawn after the run: the pair is still live
    session.flush()
    rows = calls.export_rows(session, call)
    assert {row["ca_profile_id"] for row in rows} == {c.id for c in cas[1:]}
    assert all(row["jp_contact_email"] == jp.contact_email for row in rows)
    consented = {
        p.id for p in session.scalars(select(Profile).where(Profile.consent_at.is_not(None)))
    }
    assert all({row["jp_profile_id"], row["ca_profile_id"]} <= consented for row in rows)


def test_export_rows_of_the_demo_world_are_all_consented(session: Session) -> None:
    call = calls.create_call(session, officer=_officer(session), details=_details())
    rows = calls.export_rows(session, call)
    assert rows
    consent = dict(session.execute(select(Profile.id, Profile.consent_at)).all())
    assert all(consent[row["jp_profile_id"]] and consent[row["ca_profile_id"]] for row in rows)  # type: ignore[index]


def test_writers_produce_csv_and_xlsx_with_text_never_formulas() -> None:
    row: calls.ExportRow = {key: "" for key, _ in calls.EXPORT_COLUMNS}
    row.update(
        {"field": "Quantum", "score": 0.5, "jp_title": '=HYPERLINK("x")', "ca_title": "量子\x01"}
    )
    parsed = list(csv.DictReader(io.StringIO(calls.write_csv([row]).decode("utf-8-sig"))))
    assert parsed[0]["Japanese profile title"] == '\'=HYPERLINK("x")'
    assert parsed[0]["Canadian profile title"] == "量子"
    assert parsed[0]["Score"] == "0.5"
    sheet = load_workbook(io.BytesIO(calls.write_xlsx([row]))).active
    values = [[cell.value for cell in line] for line in sheet.iter_rows()]
    assert values[0][:2] == ["Field", "Score"]
    assert values[1][3] == '\'=HYPERLINK("x")' and values[1][1] == 0.5


# --- Balanced introductions and release -----------------------------------------------


def test_balanced_assignment_respects_capacities_by_profile_kind(session: Session) -> None:
    call = calls.create_call(
        session,
        officer=_officer(session),
        details=_details(startup_capacity=1, researcher_capacity=2),
    )
    result = calls.balanced_assignment(session, call)
    assert result.chosen and len(result.chosen) < len(result.candidates)
    used = Counter(p.jp.id for p in result.chosen) + Counter(p.ca.id for p in result.chosen)
    kinds = {p.jp.id: p.jp.kind for p in result.chosen} | {
        p.ca.id: p.ca.kind for p in result.chosen
    }
    for profile_id, count in used.items():
        assert count <= (1 if kinds[profile_id] == ProfileKind.STARTUP else 2)
    assert result.total_score == pytest.approx(sum(p.match.score for p in result.chosen))
    assert result.after.maximum <= 2 < result.before.maximum
    assert result.before.profiles == result.after.profiles
    assert 0.0 <= result.after.gini <= 1.0


def test_release_assignment_is_idempotent_and_replaces_the_previous_release(
    session: Session,
) -> None:
    officer = _officer(session)
    jp, cas = _isolated_pairs(session)
    call = _only_other_kinds(session, requires_approval=True)
    result = calls.balanced_assignment(session, call)
    assert len(result.chosen) == 3  # startup capacity 3, one partner per researcher

    def released() -> set[tuple[int, int]]:
        rows = session.scalars(select(CallProposal).where(CallProposal.call_id == call.id))
        return {(r.jp_profile_id, r.ca_profile_id) for r in rows}

    assert calls.release_assignment(session, call, officer, result.chosen) == 3
    assert calls.release_assignment(session, call, officer, result.chosen) == 3
    assert released() == {(jp.id, ca.id) for ca in cas}
    assert calls.release_assignment(session, call, officer, result.chosen[:1]) == 1
    assert released() == {(result.chosen[0].jp.id, result.chosen[0].ca.id)}
    events = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "call.released", AuditEvent.subject_id == str(call.id)
        )
    ).all()
    assert [e.details["proposals"] for e in events] == [3, 3, 1]
    assert [e.details["replaced"] for e in events] == [0, 3, 3]


def test_release_assignment_refuses_ineligible_pairs(session: Session) -> None:
    _isolated_pairs(session)
    call = _only_other_kinds(session)
    other = calls.create_call(session, officer=_officer(session), details=_details())
    ineligible = [
        p for p in calls.call_pairs(session, call, include_ineligible=True) if not p.eligible
    ]
    with pytest.raises(InvalidInput):
        calls.release_assignment(session, other, _officer(session), ineligible[:1])


def test_calls_requiring_approval_lists_calls_that_released_the_pair(session: Session) -> None:
    officer = _officer(session)
    jp, cas = _isolated_pairs(session)
    strict = _only_other_kinds(session, requires_approval=True)
    relaxed = _only_other_kinds(session, requires_approval=False)
    for call in (strict, relaxed):
        result = calls.balanced_assignment(session, call)
        calls.release_assignment(session, call, officer, result.chosen[:2])
    chosen = [(p.jp.id, p.ca.id) for p in calls.balanced_assignment(session, strict).chosen]
    assert calls.calls_requiring_approval(session, *chosen[0]) == [strict]  # released by both
    assert calls.calls_requiring_approval(session, *chosen[2]) == []  # released by neither
    assert calls.calls_requiring_approval(session, cas[0].id, jp.id) == []
