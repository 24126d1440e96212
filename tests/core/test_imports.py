"""Importing profiles from CSV and .xlsx: reading the file, the column mapping, the dry
run's report, the all-or-nothing import and the invitations; claiming a profile."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.config import Settings
from core.errors import Conflict, InvalidInput, PermissionDenied
from core.links import CLAIM_PROFILE, Links
from core.models import (
    AuditEvent,
    Country,
    Locale,
    Organization,
    OrganizationKind,
    OutgoingEmail,
    Profile,
    RematchRequest,
    Role,
    User,
)
from core.services import demo, imports
from core.services.imports import ImportRefused, ImportTable
from tests.factories import make_profile, make_user

OFFICER = demo.DEMO_ACCOUNTS[2].email
RESEARCHER = demo.DEMO_ACCOUNTS[0].email

HEADER = ["Email", "Name", "Kind", "Organization", "Region", "Fields", "Title", "Summary"]
MAPPING = {
    "email": "Email",
    "name": "Name",
    "kind": "Kind",
    "organization_name": "Organization",
    "region": "Region",
    "fields": "Fields",
    "title": "Title",
    "summary": "Summary",
}
SUMMARY = "We build cryogenic control electronics for superconducting qubits."


def _row(email: str, **overrides: str) -> list[str]:
    values = {
        "Email": email,
        "Name": "Aiko Tanaka",
        "Kind": "researcher",
        "Organization": "Test University",
        "Region": "JP-13",
        "Fields": "quantum",
        "Title": "Qubit control",
        "Summary": SUMMARY,
    }
    values.update(overrides)
    return [values[column] for column in HEADER]


def _csv(rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def _table(rows: list[list[str]]) -> ImportTable:
    return imports.read_table(_csv(rows), filename="people.csv")


def _officer(session: Session) -> User:
    officer = session.scalar(select(User).where(User.email == OFFICER))
    assert officer is not None
    return officer


def _links(settings: Settings) -> Links:
    return Links(base_url=settings.base_url, secret_key=settings.secret_key)


def _count(session: Session, model: type[object]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


# --- the mapping -------------------------------------------------------------------------


def test_suggest_mapping_recognizes_japanese_headers() -> None:
    headers = ["メールアドレス", "氏名", "種別", "所属", "都道府県", "分野", "タイトル", "概要"]
    assert imports.suggest_mapping(headers) == {
        "email": "メールアドレス",
        "name": "氏名",
        "kind": "種別",
        "organization_name": "所属",
        "region": "都道府県",
        "fields": "分野",
        "title": "タイトル",
        "summary": "概要",
    }


def test_suggest_mapping_recognizes_french_and_english_headers_in_any_case() -> None:
    french = imports.suggest_mapping(["COURRIEL", "Nom", "Organisme", "Région", "Résumé", "Langue"])
    assert french == {
        "email": "COURRIEL",
        "name": "Nom",
        "organization_name": "Organisme",
        "region": "Région",
        "summary": "Résumé",
        "language": "Langue",
    }
    english = imports.suggest_mapping(["E-mail address (work)", "Name of organization", "Name"])
    # The longest name wins: "Name of organization" is the organization, not the person.
    assert english == {
        "email": "E-mail address (work)",
        "name": "Name",
        "organization_name": "Name of organization",
    }


def test_check_mapping_names_each_missing_required_column() -> None:
    table = _table([_row("a@tests.example")])
    with pytest.raises(InvalidInput) as refused:
        imports.check_mapping(table, {"email": "Email", "name": "Nope"})
    assert refused.value.errors.keys() == {
        "name",
        "kind",
        "organization_name",
        "region",
        "fields",
        "title",
        "summary",
    }


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("JP-13", "JP-13"),
        ("jp-13", "JP-13"),
        ("東京都", "JP-13"),
        ("東京", "JP-13"),
        ("Tokyo", "JP-13"),
        ("Ōsaka", "JP-27"),
        ("Québec", "CA-QC"),
        ("quebec", "CA-QC"),
        ("QC", "CA-QC"),
        ("ケベック州", "CA-QC"),
        ("Colombie-Britannique", "CA-BC"),
        ("Atlantis", None),
    ],
)
def test_parse_region_accepts_codes_and_names_in_three_languages(raw: str, code: str) -> None:
    assert imports.parse_region(raw) == code


# --- reading the file --------------------------------------------------------------------


def test_read_table_numbers_rows_as_the_spreadsheet_shows_them() -> None:
    data = '\ufeffEmail,Name\r\na@tests.example,A\r\n,\r\nb@tests.example,"B\nsecond line"\r\n'
    table = imports.read_table(data.encode("utf-8"), filename="people.csv")
    assert table.headers == ("Email", "Name")  # the BOM is gone
    assert [row.number for row in table.rows] == [2, 4]  # the blank row 3 still counts
    assert table.value(table.rows[1], "Name") == "B\nsecond line"


def test_read_table_reads_shift_jis_from_japanese_excel() -> None:
    data = "氏名,メール,都道府県\r\n田中 愛子,aiko@tests.example,東京都\r\n".encode("cp932")
    table = imports.read_table(data, filename="参加者.csv")
    assert table.encoding == "cp932"
    assert table.headers == ("氏名", "メール", "都道府県")
    assert table.rows[0].cells == ("田中 愛子", "aiko@tests.example", "東京都")


def test_read_table_reads_semicolons_and_windows_1252_from_french_excel() -> None:
    data = "Nom;Courriel;Région\r\nÉlodie Tremblay;elodie@tests.example;Québec\r\n"
    table = imports.read_table(data.encode("cp1252"), filename="inscriptions.csv")
    assert table.encoding == "cp1252"
    assert table.rows[0].cells == ("Élodie Tremblay", "elodie@tests.example", "Québec")


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "people.csv", "The file is empty."),
        (b"Email,Name\n" + b"x" * imports.MAX_FILE_BYTES, "people.csv", "larger than 5 MB"),
        (b"Email,Name\n", "people.pdf", "Upload a CSV file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "people.csv", "not a CSV file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "people.xls.csv", "old Excel workbook"),
        (b"PK\x03\x04 not really a zip", "people.xlsx", "workbook cannot be read"),
        (b"Email,Name\nx,y\n", "people.xlsx", "not an Excel workbook"),
        (b"Email,Name\n\x81 \x81 ,y\n", "people.csv", "cannot be read (it is neither UTF-8"),
        (b"\n\n  \n", "people.csv", "no header row"),
        (b"Email,Name\n", "people.csv", "no rows under it"),
        (b"Just one column\nvalue\n", "people.csv", "only one column"),
        (b'Email,Name\n"a@tests.example,A\n', "people.csv", "near line 2"),
        (
            b"Email,Name\n" + b"a@tests.example,A\n" * (imports.MAX_ROWS + 1),
            "people.csv",
            "more than 5000 rows",
        ),
    ],
)
def test_read_table_refuses_what_is_not_a_table_with_a_clear_message(
    data: bytes, filename: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        imports.read_table(data, filename=filename)
    assert message in refused.value.errors["file"]


def test_read_table_names_empty_and_repeated_headers_by_their_column_letter() -> None:
    table = imports.read_table(b"Email,,Email\na,b,c\n", filename="people.csv")
    assert table.headers == ("Email", "[B]", "Email [C]")


# --- the dry run -------------------------------------------------------------------------


def test_dry_run_reports_row_column_and_message_for_every_bad_row(session: Session) -> None:
    make_user(session, email="taken@tests.example")
    table = _table(
        [
            _row("good@tests.example"),
            _row("not an address", Name=""),
            _row("region@tests.example", Region="Atlantis", Fields="quantum; alchemy"),
            _row("good@tests.example", Kind="astronaut"),
            _row("taken@tests.example", Title="", Summary=""),
            _row(RESEARCHER.upper(), Organization=""),
        ]
    )
    report = imports.dry_run(session, table, MAPPING)
    problems = [(p.row, p.column, p.message.msgid) for p in report.problems]
    assert problems == [
        (3, "Email", "Enter a valid email address."),
        (3, "Name", "Give the person's name."),
        (
            4,
            "Region",
            "Unknown prefecture, province or territory “%(value)s”: give its name, or a "
            "code such as JP-13 or CA-QC.",
        ),
        (
            4,
            "Fields",
            "Unknown MOC field “%(value)s”: use a code such as quantum, or the field's "
            "name, separated by semicolons.",
        ),
        (5, "Email", "The same address is on row %(row)s of this file."),
        (5, "Kind", "Enter researcher or startup."),
        (
            6,
            "Email",
            "An account already uses this address: the person can write a profile "
            "themselves after logging in.",
        ),
        (6, "Title", "Give your profile a title."),
        (6, "Summary", "Describe your research or product."),
        (
            7,
            "Email",
            "An account already uses this address: the person can write a profile "
            "themselves after logging in.",
        ),
        (7, "Organization", "Give the name of your organization."),
    ]
    assert str(report.problems[2].message).startswith("Unknown prefecture, province or territory")
    assert "“Atlantis”" in str(report.problems[2].message)
    assert "“alchemy”" in str(report.problems[3].message)
    assert report.rows == 6 and report.rows_with_problems == 5 and not report.ok


def test_dry_run_checks_the_optional_columns_with_the_profile_rules(session: Session) -> None:
    header = [*HEADER, "Staff", "Founded", "Website", "ORCID", "Type of organization"]
    mapping = {
        **MAPPING,
        "staff_count": "Staff",
        "founded_year": "Founded",
        "website": "Website",
        "orcid": "ORCID",
        "organization_kind": "Type of organization",
    }
    rows = [
        [*_row("one@tests.example"), "1,200", "1950", "https://example.org", "", "大学"],
        [*_row("two@tests.example"), "many", "1200", "example.org", "0000-0002-1825-0098", "?"],
    ]
    table = imports.read_table(_csv(rows, header), filename="people.csv")
    report = imports.dry_run(session, table, mapping)
    assert [(p.row, p.column) for p in report.problems] == [
        (3, "Staff"),
        (3, "Founded"),
        (3, "Website"),
        (3, "ORCID"),
        (3, "Type of organization"),
    ]


def test_a_row_with_more_cells_than_the_header_is_reported(session: Session) -> None:
    data = (
        _csv([_row("a@tests.example")])
        + b"b@tests.example,B,researcher,U,JP-13,quantum,T,S,extra\r\n"
    )
    report = imports.dry_run(session, imports.read_table(data, filename="p.csv"), MAPPING)
    assert [(p.row, p.column) for p in report.problems] == [(3, "")]
    assert "1 more cells than the header" in str(report.problems[0].message)


# --- the import --------------------------------------------------------------------------


def test_a_bad_row_imports_nothing(session: Session, settings: Settings) -> None:
    table = _table([_row("first@tests.example"), _row("second@tests.example", Region="Mars")])
    models: list[type[object]] = [Profile, Organization, OutgoingEmail, AuditEvent, User]
    before = {model: _count(session, model) for model in models}
    with pytest.raises(ImportRefused) as refused:
        imports.import_profiles(
            session, table, MAPPING, officer=_officer(session), links=_links(settings)
        )
    assert [(p.row, p.column) for p in refused.value.report.problems] == [(3, "Region")]
    assert {model: _count(session, model) for model in models} == before


def test_a_good_file_imports_every_row_unclaimed_unconsented_and_invites_each_person(
    session: Session, settings: Settings
) -> None:
    header = [*HEADER, "Language"]
    rows = [
        [*_row("tokyo@tests.example", Region="東京都"), ""],
        [*_row("quebec@tests.example", Region="Québec", Kind="startup"), ""],
        [*_row("ontario@tests.example", Region="Ontario", Fields="Quantum; 半導体"), ""],
        [*_row("osaka-en@tests.example", Region="JP-27"), "English"],
    ]
    table = imports.read_table(_csv(rows, header), filename="people.csv")
    mapping = {**MAPPING, "language": "Language"}
    assert imports.dry_run(session, table, mapping).ok
    requests_before = _count(session, RematchRequest)

    count = imports.import_profiles(
        session, table, mapping, officer=_officer(session), links=_links(settings)
    )

    assert count == 4
    addresses = [row[0] for row in rows]
    profiles = {
        p.contact_email: p
        for p in session.scalars(select(Profile).where(Profile.contact_email.in_(addresses)))
    }
    assert set(profiles) == set(addresses)
    for profile in profiles.values():
        assert profile.owner_id is None and profile.consent_at is None
        assert not profile.is_matchable
        assert profile.contact_name == "Aiko Tanaka"
    assert profiles["tokyo@tests.example"].region == "JP-13"
    assert profiles["quebec@tests.example"].organization.kind == OrganizationKind.STARTUP
    assert profiles["quebec@tests.example"].country.value == "CA"
    assert [f.code for f in profiles["ontario@tests.example"].fields] == [
        "quantum",
        "semiconductors",
    ]
    # Not matched before consent, so nothing to rematch yet.
    assert _count(session, RematchRequest) == requests_before

    invitations = session.scalars(
        select(OutgoingEmail).where(
            OutgoingEmail.kind == "invitation", OutgoingEmail.to_address.in_(addresses)
        )
    ).all()
    assert {(m.to_address, m.locale) for m in invitations} == {
        ("tokyo@tests.example", Locale.JA),
        ("quebec@tests.example", Locale.FR),
        ("ontario@tests.example", Locale.EN),
        ("osaka-en@tests.example", Locale.EN),
    }
    links = _links(settings)
    for message in invitations:
        token = message.body.split("/claim/")[1].split("?")[0].split()[0]
        profile = profiles[message.to_address]
        assert links.read(CLAIM_PROFILE, token) == {"p": profile.id, "e": message.to_address}
        assert message.user_id is None

    event = session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "profiles.imported")
        .order_by(AuditEvent.id.desc())
    )
    assert event is not None and event.actor_id == _officer(session).id
    assert event.details["profiles"] == 4 and event.details["invitations"] == 4
    assert "@" not in str(event.details) and "Tanaka" not in str(event.details)


def test_importing_the_same_file_twice_is_refused(session: Session, settings: Settings) -> None:
    table = _table([_row("twice-imported@tests.example")])
    officer, links = _officer(session), _links(settings)
    assert imports.import_profiles(session, table, MAPPING, officer=officer, links=links) == 1
    report = imports.dry_run(session, table, MAPPING)
    assert [p.message.msgid for p in report.problems] == [
        "A profile with this contact address exists already."
    ]


def test_only_officers_import(session: Session, settings: Settings) -> None:
    registrant = make_user(session)
    assert registrant.role == Role.REGISTRANT
    with pytest.raises(PermissionDenied):
        imports.import_profiles(
            session,
            _table([_row("nope@tests.example")]),
            MAPPING,
            officer=registrant,
            links=_links(settings),
        )


def test_an_xlsx_workbook_imports_like_a_csv_file(session: Session, settings: Settings) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(
        ["メール", "氏名", "種別", "所属", "都道府県", "分野", "タイトル", "概要", "設立年"]
    )
    sheet.append([])  # a blank row 2: the person's row numbers still count it
    sheet.append(
        [
            "xlsx@tests.example",
            "佐藤 健",
            "スタートアップ",
            "量子ベンチャー株式会社",
            "大阪府",
            "量子",
            "量子制御",
            "超伝導量子ビットの制御装置を開発しています。",
            2019,
        ]
    )
    sheet.append(["bad-xlsx", "", "", "", "", "", "", "", "2019"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    table = imports.read_table(buffer.getvalue(), filename="参加者.xlsx")
    assert table.file_format == "xlsx"
    mapping = imports.suggest_mapping(table.headers)
    assert mapping["founded_year"] == "設立年"
    report = imports.dry_run(session, table, mapping)
    assert {p.row for p in report.problems} == {4}

    sheet.delete_rows(4)
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = imports.read_table(buffer.getvalue(), filename="参加者.xlsx")
    count = imports.import_profiles(
        session, table, mapping, officer=_officer(session), links=_links(settings)
    )
    assert count == 1
    profile = session.scalar(select(Profile).where(Profile.contact_email == "xlsx@tests.example"))
    assert profile is not None
    assert (profile.region, profile.organization.founded_year) == ("JP-27", 2019)
    assert profile.language == Locale.JA
    invitation = session.scalar(
        select(OutgoingEmail).where(OutgoingEmail.to_address == "xlsx@tests.example")
    )
    assert invitation is not None and invitation.locale == Locale.JA


def test_a_shift_jis_csv_file_imports(session: Session, settings: Settings) -> None:
    header = ["メール", "氏名", "種別", "所属", "都道府県", "分野", "タイトル", "概要"]
    row = [
        "sjis@tests.example",
        "鈴木 花子",
        "研究者",
        "東北大学",
        "宮城県",
        "ライフサイエンス",
        "細胞培養",
        "幹細胞の培養技術を研究しています。",
    ]
    table = imports.read_table(_csv([row], header, "cp932"), filename="sankasha.csv")
    assert table.encoding == "cp932"
    mapping = imports.suggest_mapping(table.headers)
    count = imports.import_profiles(
        session, table, mapping, officer=_officer(session), links=_links(settings)
    )
    assert count == 1
    profile = session.scalar(select(Profile).where(Profile.contact_email == "sjis@tests.example"))
    assert profile is not None
    assert (profile.contact_name, profile.region) == ("鈴木 花子", "JP-04")
    assert [f.code for f in profile.fields] == ["life_sciences"]


# --- claiming ----------------------------------------------------------------------------


def _imported(session: Session, settings: Settings, email: str) -> tuple[Profile, str]:
    imports.import_profiles(
        session, _table([_row(email)]), MAPPING, officer=_officer(session), links=_links(settings)
    )
    profile = session.scalar(select(Profile).where(Profile.contact_email == email))
    assert profile is not None
    return profile, _links(settings).token(CLAIM_PROFILE, {"p": profile.id, "e": email})


def test_claiming_with_a_new_account_verifies_it_and_owns_the_profile(
    session: Session, settings: Settings
) -> None:
    profile, token = _imported(session, settings, "claimer@tests.example")
    user = imports.claim_with_new_account(
        session,
        token=token,
        links=_links(settings),
        password="kiwi-orbit-harbour-27",
        display_name="Aiko T.",
        locale=Locale.JA,
    )
    assert user.email_verified_at is not None and user.locale == Locale.JA
    assert profile.owner_id == user.id and profile.consent_at is None
    assert profile.contact_name == "Aiko T."
    with pytest.raises(InvalidInput) as used:
        imports.read_invitation(session, token=token, links=_links(settings))
    assert used.value.errors == {"token": "claimed"}


def test_claiming_for_an_account_needs_the_invited_address_and_no_profile(
    session: Session, settings: Settings
) -> None:
    profile, token = _imported(session, settings, "holder@tests.example")
    stranger = make_user(session)
    with pytest.raises(PermissionDenied):
        imports.claim_for_user(session, token=token, links=_links(settings), user=stranger)
    holder = make_user(session, email="holder@tests.example")
    assert imports.read_invitation(session, token=token, links=_links(settings)).account_id == (
        holder.id
    )
    assert imports.claim_for_user(session, token=token, links=_links(settings), user=holder) is (
        profile
    )
    assert holder.email_verified_at is not None


def test_an_account_with_a_profile_of_its_own_cannot_claim_another(
    session: Session, settings: Settings
) -> None:
    _, token = _imported(session, settings, "has-one@tests.example")
    owner = make_user(session, email="has-one@tests.example")
    make_profile(session, country=Country.CA, summary=SUMMARY, fields=["quantum"], owner=owner)
    with pytest.raises(Conflict):
        imports.claim_for_user(session, token=token, links=_links(settings), user=owner)


def test_a_tampered_claim_token_is_invalid(session: Session, settings: Settings) -> None:
    _, token = _imported(session, settings, "tamper-core@tests.example")
    with pytest.raises(InvalidInput) as refused:
        imports.read_invitation(session, token=token[:-2] + "xx", links=_links(settings))
    assert refused.value.errors == {"token": "invalid"}
