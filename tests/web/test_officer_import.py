"""The officer console's import through the Flask test client: upload, columns, check,
import; malformed files; and who may use it."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from core.config import Settings
from core.models import Organization, OutgoingEmail, Profile
from core.services import demo
from tests.conftest import login
from tests.web.registrants import QUANTUM_SUMMARY, link_in, newest_mail_to, register

OFFICER = demo.DEMO_ACCOUNTS[2].email
URLS = [
    ("GET", "/officer/import/"),
    ("POST", "/officer/import/"),
    ("GET", "/officer/import/mapping"),
    ("POST", "/officer/import/check"),
    ("POST", "/officer/import/run"),
    ("GET", "/officer/import/done"),
]
HEADER = "メールアドレス,氏名,種別,所属,都道府県,分野,タイトル,概要\r\n"


def _people(*rows: str) -> bytes:
    return (HEADER + "".join(f"{row}\r\n" for row in rows)).encode("utf-8")


def _row(email: str, region: str = "東京都", fields: str = "quantum") -> str:
    return f'{email},田中 愛子,研究者,東京大学,{region},{fields},Qubit control,"{QUANTUM_SUMMARY}"'


def _upload(client: FlaskClient, data: bytes, filename: str = "people.csv") -> TestResponse:
    return client.post(
        "/officer/import/",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def _mapping_form(page: str) -> dict[str, str]:
    """The choices the mapping page made (the selected option of each select)."""
    form: dict[str, str] = {}
    for name, body in re.findall(
        r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', page, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        form[name] = chosen.group(1) if chosen else ""
    return form


def _count(session: Session, model: type[object]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def officer(client: FlaskClient) -> FlaskClient:
    login(client, OFFICER)
    return client


def test_the_four_steps_import_every_row_and_send_the_invitations(
    officer: FlaskClient, session: Session, settings: Settings
) -> None:
    assert "Import profiles" in officer.get("/officer/import/").get_data(as_text=True)
    data = _people(_row("web-one@tests.example"), _row("web-two@tests.example", "Québec"))

    response = _upload(officer, data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/officer/import/mapping")
    # The file waits in the instance folder; the cookie session keeps only its name.
    with officer.session_transaction() as browser:
        name = browser["officer_import"]["name"]
    assert re.fullmatch(r"[0-9a-f]{32}\.csv", name)
    stored = settings.instance_path / "imports" / name
    assert stored.read_bytes() == data

    page = officer.get("/officer/import/mapping").get_data(as_text=True)
    assert '<option value="メールアドレス" selected>' in page
    assert "web-one@tests.example" in page  # the first rows, to check the choice
    form = _mapping_form(page)
    assert form["map-email"] == "メールアドレス" and form["map-region"] == "都道府県"

    before = _count(session, Profile)
    report = officer.post("/officer/import/check", data=form)
    page = report.get_data(as_text=True)
    assert report.status_code == 200
    assert "All 2 rows can be imported." in page
    assert 'action="/officer/import/run"' in page
    assert _count(session, Profile) == before  # the check writes nothing
    # The import button posts the checked mapping again (the file stays on the server).
    hidden = dict(re.findall(r'<input type="hidden" name="(map-[^"]+)" value="([^"]*)">', page))
    assert hidden == {name: header for name, header in form.items() if header}

    response = officer.post("/officer/import/run", data=hidden)
    assert response.status_code == 302
    done = officer.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 profiles imported" in done
    assert _count(session, Profile) == before + 2
    assert not stored.exists()  # the upload is removed once imported

    _, body = newest_mail_to(settings, "web-one@tests.example")
    assert "/claim/" in link_in(body, "/claim/")
    _, body = newest_mail_to(settings, "web-two@tests.example")
    assert "?lang=fr" in link_in(body, "/claim/")
    delivered = session.scalars(
        select(OutgoingEmail.status).where(OutgoingEmail.to_address == "web-one@tests.example")
    ).all()
    assert [status.value for status in delivered] == ["sent"]


def test_the_check_lists_every_problem_and_offers_no_import(
    officer: FlaskClient, session: Session
) -> None:
    data = _people(
        _row("fine@tests.example"),
        _row("broken", "Atlantis"),
        _row("fine@tests.example", fields="alchemy"),
    )
    _upload(officer, data)
    form = _mapping_form(officer.get("/officer/import/mapping").get_data(as_text=True))
    page = officer.post("/officer/import/check", data=form).get_data(as_text=True)
    problems = re.findall(
        r'<tr class="problem"><td class="num">(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>',
        page,
    )
    assert [(row, column) for row, column, _ in problems] == [
        ("3", "メールアドレス"),
        ("3", "都道府県"),
        ("4", "メールアドレス"),
        ("4", "分野"),
    ]
    assert "Enter a valid email address." in problems[0][2]
    assert "nothing can be imported" in page
    assert 'action="/officer/import/run"' not in page

    before = _count(session, Profile), _count(session, Organization)
    response = officer.post("/officer/import/run", data=form)  # even when forced
    assert response.status_code == 400
    assert (_count(session, Profile), _count(session, Organization)) == before


def test_an_incomplete_mapping_is_sent_back_with_the_missing_columns_marked(
    officer: FlaskClient,
) -> None:
    _upload(officer, _people(_row("mapping@tests.example")))
    form = _mapping_form(officer.get("/officer/import/mapping").get_data(as_text=True))
    form["map-email"] = ""
    form["map-title"] = "no such column"
    response = officer.post("/officer/import/check", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert page.count('aria-invalid="true"') == 2
    assert "it is required" in page and "Choose a column of the file." in page


def test_someone_registering_between_check_and_import_stops_the_whole_import(
    app: Flask, officer: FlaskClient, session: Session
) -> None:
    _upload(officer, _people(_row("race-a@tests.example"), _row("race-b@tests.example")))
    form = _mapping_form(officer.get("/officer/import/mapping").get_data(as_text=True))
    assert "can be imported" in officer.post("/officer/import/check", data=form).get_data(
        as_text=True
    )
    register(app.test_client(), "race-b@tests.example")
    before = _count(session, Profile)
    response = officer.post("/officer/import/run", data=form)
    assert response.status_code == 400
    assert "An account already uses this address" in response.get_data(as_text=True)
    assert _count(session, Profile) == before


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "people.csv", "The file is empty."),
        (b"\x00\x01\x02\x03binary", "people.csv", "not a CSV file"),
        (b"Email,Name\n\x81 \x81 ,y\n", "people.csv", "neither UTF-8 nor Shift_JIS"),
        (b"just some text\nwithout columns\n", "notes.csv", "only one column"),
        (b"Email,Name\n", "people.csv", "no rows under it"),
        (b"PK\x03\x04broken", "people.xlsx", "workbook cannot be read"),
        (b"%PDF-1.7", "people.pdf", "Upload a CSV file"),
    ],
)
def test_a_malformed_upload_gets_a_clear_400_on_the_upload_page(
    officer: FlaskClient, data: bytes, filename: str, message: str
) -> None:
    response = _upload(officer, data, filename)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert 'type="file"' in page  # the upload form again


def test_a_file_over_the_limit_gets_a_clear_400(officer: FlaskClient) -> None:
    big = _people(_row("big@tests.example")) + b"x" * (5 * 1024 * 1024)
    response = _upload(officer, big)
    assert response.status_code == 400
    assert "larger than 5 MB" in response.get_data(as_text=True)
    far_too_big = b"x" * (6 * 1024 * 1024)
    response = _upload(officer, far_too_big)
    assert response.status_code == 400
    assert "larger than 5 MB" in response.get_data(as_text=True)


def test_a_file_over_the_limit_gets_a_400_with_csrf_protection_on(app: Flask) -> None:
    # In production the CSRF check reads the body first; the answer must be the same.
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    client.post(
        "/login",
        data={"email": OFFICER, "password": demo.DEMO_PASSWORD, "csrf_token": token.group(1)},
    )
    response = _upload(client, b"x" * (6 * 1024 * 1024))
    assert response.status_code == 400
    assert "larger than 5 MB" in response.get_data(as_text=True)


def test_an_upload_without_a_file_is_refused(officer: FlaskClient) -> None:
    response = officer.post("/officer/import/", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a file to upload." in response.get_data(as_text=True)


def test_a_forged_upload_name_in_the_session_is_ignored(
    officer: FlaskClient, settings: Settings
) -> None:
    secret = settings.instance_path / "secret.csv"
    secret.write_text(HEADER + _row("leak@tests.example"))
    with officer.session_transaction() as browser:
        browser["officer_import"] = {"name": "../secret.csv", "filename": "x.csv"}
    response = officer.get("/officer/import/mapping")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/officer/import/")


def test_the_steps_without_an_upload_send_back_to_the_upload(officer: FlaskClient) -> None:
    for method, url in [("GET", "/officer/import/mapping"), ("POST", "/officer/import/run")]:
        response = officer.open(url, method=method, data={})
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/officer/import/")


@pytest.mark.parametrize(("method", "url"), URLS)
def test_a_registrant_gets_403_on_every_import_url(
    client: FlaskClient, method: str, url: str
) -> None:
    login(client, demo.DEMO_ACCOUNTS[0].email)
    data = {"file": (io.BytesIO(_people(_row("x@tests.example"))), "people.csv")}
    response = client.open(url, method=method, data=data if method == "POST" else None)
    assert response.status_code == 403


@pytest.mark.parametrize(("method", "url"), URLS)
def test_anonymous_visitors_are_sent_to_log_in(client: FlaskClient, method: str, url: str) -> None:
    response = client.open(url, method=method)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
