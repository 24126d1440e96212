"""The grant calls part of the officer console, through the Flask test client."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from flask.testing import FlaskClient
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import CallProposal, GrantCall, Profile, ProfileKind, User
from core.services import calls, demo
from core.services.calls import CallDetails
from tests.conftest import login

RESEARCHER, FOUNDER, OFFICER = (a.email for a in demo.DEMO_ACCOUNTS)


def _officer(session: Session) -> User:
    officer = session.scalar(select(User).where(User.email == OFFICER))
    assert officer is not None
    return officer


def _call(session: Session, **overrides: object) -> GrantCall:
    values: dict[str, object] = {
        "title": "Quantum pilots",
        "field_codes": ["quantum"],
        "opens_on": date(2026, 1, 1),
        "closes_on": date(2026, 6, 30),
    }
    values.update(overrides)
    return calls.create_call(
        session,
        officer=_officer(session),
        details=CallDetails(**values),  # type: ignore[arg-type]
    )


TITLE = "Startups with Canadian SMEs"
VALID_FORM: dict[str, str | list[str]] = {
    "title": TITLE,
    "description": "Joint pilots in quantum sensing.",
    "fields": ["quantum", "semiconductors"],
    "opens_on": "2026-01-15",
    "closes_on": "2026-04-30",
    "jp_organization_kinds": ["startup", "sme"],
    "ca_organization_kinds": ["sme"],
    "ca_max_staff": "500",
    "excluded_terms": "nuclear\n原子力, drug discovery",
    "distinct_organizations": "y",
    "max_proposals_per_profile": "5",
    "startup_capacity": "2",
    "researcher_capacity": "4",
    "requires_approval": "y",
}


def test_officer_creates_a_call_through_the_form(client: FlaskClient, session: Session) -> None:
    login(client, OFFICER)
    page = client.get("/officer/calls/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<label for="title">' in html and '<label for="closes_on">' in html
    response = client.post("/officer/calls/new", data=VALID_FORM)
    assert response.status_code == 302
    call = session.scalar(select(GrantCall).where(GrantCall.title == TITLE))
    assert call is not None
    assert response.headers["Location"].endswith(f"/officer/calls/{call.id}")
    assert call.field_codes == ["quantum", "semiconductors"]
    assert (call.opens_on, call.closes_on) == (date(2026, 1, 15), date(2026, 4, 30))
    assert call.jp_organization_kinds == ["startup", "sme"]
    assert call.ca_organization_kinds == ["sme"]
    assert (call.jp_max_staff, call.ca_max_staff) == (None, 500)
    assert call.excluded_terms == ["nuclear", "原子力", "drug discovery"]
    assert call.distinct_organizations and call.requires_approval
    assert call.max_proposals_per_profile == 5
    assert (call.startup_capacity, call.researcher_capacity) == (2, 4)
    listing = client.get("/officer/calls/").get_data(as_text=True)
    assert TITLE in listing and 'href="/officer/calls/new"' in listing


def test_invalid_call_form_keeps_input_and_shows_messages_by_fields(
    client: FlaskClient, session: Session
) -> None:
    login(client, OFFICER)
    before = session.scalar(select(func.count()).select_from(GrantCall))
    data = dict(VALID_FORM, title="", closes_on="2026-01-01", ca_max_staff="lots")
    data.pop("fields")
    response = client.post("/officer/calls/new", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for message in (
        "Give the call a title.",
        "Choose at least one MOC field.",
        "The call must close after it opens.",
        "Not a valid integer value.",
    ):
        assert message in html
    assert 'id="closes_on-errors"' in html and 'aria-invalid="true"' in html
    # What was typed is still there.
    assert "Joint pilots in quantum sensing." in html and "drug discovery" in html
    assert 'value="2026-01-15"' in html
    assert session.scalar(select(func.count()).select_from(GrantCall)) == before


def test_officer_edits_a_call(client: FlaskClient, session: Session) -> None:
    call = _call(session)
    login(client, OFFICER)
    page = client.get(f"/officer/calls/{call.id}/edit").get_data(as_text=True)
    assert 'value="Quantum pilots"' in page
    data = dict(VALID_FORM, title="Renamed call")
    assert client.post(f"/officer/calls/{call.id}/edit", data=data).status_code == 302
    session.refresh(call)
    assert call.title == "Renamed call"


def test_call_page_lists_eligible_pairs_and_reasons_with_show_all(
    client: FlaskClient, session: Session
) -> None:
    call = _call(session, jp_organization_kinds=["startup", "sme"])
    pairs = calls.call_pairs(session, call, include_ineligible=True)
    eligible = [p for p in pairs if p.eligible]
    ineligible = [p for p in pairs if not p.eligible]
    assert eligible and ineligible
    login(client, OFFICER)
    page = client.get(f"/officer/calls/{call.id}").get_data(as_text=True)
    assert f"{len(eligible)} eligible pairs, {len(ineligible)} not eligible." in page
    assert eligible[0].jp.title in page
    accepts = "the call accepts Startup, Small or medium-sized enterprise."
    assert accepts not in page
    everything = client.get(f"/officer/calls/{call.id}?show=all").get_data(as_text=True)
    assert accepts in everything
    french = client.get(f"/officer/calls/{call.id}?show=all&lang=fr").get_data(as_text=True)
    assert "l’appel accepte Entreprise en démarrage, Petite ou moyenne entreprise." in french
    client.get("/?lang=en")
    assert f"Page 1 of {-(-len(pairs) // 50)}" in everything
    last = -(-len(pairs) // 50)
    tail = client.get(f"/officer/calls/{call.id}?show=all&page={last}").get_data(as_text=True)
    assert pairs[-1].jp.title in tail and f"Page {last} of {last}" in tail


def test_unknown_call_is_404(client: FlaskClient) -> None:
    login(client, OFFICER)
    assert client.get("/officer/calls/999999").status_code == 404


def _withdraw_one(session: Session, call: GrantCall) -> Profile:
    """Withdraw the consent of a profile in an eligible pair (its pairs stay live until the
    rematch runs) and return it."""
    profile = calls.call_pairs(session, call, include_ineligible=False)[0].ca
    profile.consent_at = None
    session.flush()
    return profile


def test_csv_export_downloads_only_consented_profiles(
    client: FlaskClient, session: Session
) -> None:
    call = _call(session)
    withdrawn = _withdraw_one(session, call)
    login(client, OFFICER)
    response = client.get(f"/officer/calls/{call.id}/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="call-{call.id}-shortlist.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows
    ids = {int(r["Japanese profile id"]) for r in rows} | {
        int(r["Canadian profile id"]) for r in rows
    }
    consented = set(session.scalars(select(Profile.id).where(Profile.consent_at.is_not(None))))
    assert withdrawn.id not in ids and ids <= consented
    assert len(rows) == len(calls.export_rows(session, call))


def test_xlsx_export_downloads_only_consented_profiles(
    client: FlaskClient, session: Session
) -> None:
    call = _call(session)
    withdrawn = _withdraw_one(session, call)
    login(client, OFFICER)
    response = client.get(f"/officer/calls/{call.id}/export.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="call-{call.id}-shortlist.xlsx"'
    )
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    header, *rows = [[cell.value for cell in line] for line in sheet.iter_rows()]
    jp_column = header.index("Japanese profile id")
    ca_column = header.index("Canadian profile id")
    ids = {row[jp_column] for row in rows} | {row[ca_column] for row in rows}
    consented = set(session.scalars(select(Profile.id).where(Profile.consent_at.is_not(None))))
    assert rows and withdrawn.id not in ids and ids <= consented


def test_balance_page_and_release_write_call_proposals(
    client: FlaskClient, session: Session
) -> None:
    call = _call(session, startup_capacity=1, researcher_capacity=2, requires_approval=True)
    login(client, OFFICER)
    page = client.get(f"/officer/calls/{call.id}/balance")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Gini" in html and "Release as proposals" in html
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="([0-9a-f]+)"', html)
    assert fingerprint is not None
    expected = calls.balanced_assignment(session, call)
    assert expected.chosen[0].jp.title in html

    stale = client.post(f"/officer/calls/{call.id}/release", data={"fingerprint": "0" * 16})
    assert stale.status_code == 302 and stale.headers["Location"].endswith("/balance")
    assert not session.scalars(select(CallProposal).where(CallProposal.call_id == call.id)).all()

    for _ in range(2):  # releasing again replaces the first release
        response = client.post(
            f"/officer/calls/{call.id}/release", data={"fingerprint": fingerprint.group(1)}
        )
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/officer/calls/{call.id}")
    released = session.scalars(select(CallProposal).where(CallProposal.call_id == call.id)).all()
    assert {(r.jp_profile_id, r.ca_profile_id) for r in released} == {
        (p.jp.id, p.ca.id) for p in expected.chosen
    }
    kinds = {
        p.id: p.kind
        for p in session.scalars(
            select(Profile).where(
                Profile.id.in_(
                    [r.jp_profile_id for r in released] + [r.ca_profile_id for r in released]
                )
            )
        )
    }
    per_profile: dict[int, int] = {}
    for r in released:
        for profile_id in (r.jp_profile_id, r.ca_profile_id):
            per_profile[profile_id] = per_profile.get(profile_id, 0) + 1
    for profile_id, count in per_profile.items():
        assert count <= (1 if kinds[profile_id] == ProfileKind.STARTUP else 2)
    assert calls.calls_requiring_approval(
        session, released[0].jp_profile_id, released[0].ca_profile_id
    ) == [call]
    detail = client.get(f"/officer/calls/{call.id}").get_data(as_text=True)
    assert f"{len(released)} pairs released as proposals of this call." in detail
    assert "released as a proposal" in detail


def test_balance_page_of_a_call_without_eligible_pairs(
    client: FlaskClient, session: Session
) -> None:
    call = _call(session, jp_organization_kinds=["other"])  # the demo world has none
    login(client, OFFICER)
    page = client.get(f"/officer/calls/{call.id}/balance").get_data(as_text=True)
    assert "No eligible pairs to choose from." in page
    listing = client.get(f"/officer/calls/{call.id}").get_data(as_text=True)
    assert "0 eligible pairs" in listing and "No pairs to show." in listing


def _urls(session: Session) -> list[tuple[str, str]]:
    call_id = _call(session).id
    base = f"/officer/calls/{call_id}"
    return [
        ("GET", "/officer/calls/"),
        ("GET", "/officer/calls/new"),
        ("POST", "/officer/calls/new"),
        ("GET", base),
        ("GET", f"{base}/edit"),
        ("POST", f"{base}/edit"),
        ("GET", f"{base}/export.csv"),
        ("GET", f"{base}/export.xlsx"),
        ("GET", f"{base}/balance"),
        ("POST", f"{base}/release"),
    ]


def test_registrant_gets_403_on_every_call_url(client: FlaskClient, session: Session) -> None:
    login(client, RESEARCHER)
    for method, url in _urls(session):
        assert client.open(url, method=method, data=VALID_FORM).status_code == 403, url


def test_anonymous_is_sent_to_login_from_every_call_url(
    client: FlaskClient, session: Session
) -> None:
    for method, url in _urls(session):
        response = client.open(url, method=method, data=VALID_FORM)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"], url
    assert session.scalar(select(func.count()).select_from(CallProposal)) == 0
