"""Importing profiles from a CSV file or an .xlsx workbook, and claiming them.

Program officers collect sign-ups at events. An import reads the file
(:func:`read_table`), maps its columns to the profile's (:func:`suggest_mapping`),
reports every row's problems without writing anything (:func:`dry_run`), then creates
all the profiles or none (:func:`import_profiles`). Imported profiles have no owner and no
consent, so nobody sees them and they are never matched; each person is sent an
invitation to claim theirs (:func:`claim_with_new_account`, :func:`claim_for_user`) and
then to consent.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import Conflict, InvalidInput, Message, PermissionDenied
from core.links import CLAIM_PROFILE, MAX_AGE, Links
from core.models import (
    Availability,
    Country,
    Field,
    Locale,
    Organization,
    OrganizationKind,
    Profile,
    ProfileKind,
    Role,
    User,
    utcnow,
)
from core.orcid import normalise_orcid
from core.regions import REGIONS
from core.services import accounts, audit, emails
from core.services.fields import list_fields
from core.services.profiles import (
    ProfileChanges,
    RegistrantProfile,
    parse_keywords,
    profile_of,
    validate_registrant,
)
from matcher.text import detect_language

MAX_FILE_BYTES: Final = 5 * 1024 * 1024
MAX_ROWS: Final = 5000
MAX_COLUMNS: Final = 200
MAX_NAME_LENGTH: Final = 200
INVITATION_DAYS: Final = (MAX_AGE[CLAIM_PROFILE] or 0) // (24 * 3600)

#: The profile's columns an import fills, in the order the mapping step shows them.
TARGETS: Final = (
    "email",
    "name",
    "kind",
    "organization_name",
    "organization_kind",
    "staff_count",
    "founded_year",
    "website",
    "region",
    "fields",
    "title",
    "summary",
    "keywords",
    "orcid",
    "language",
)
REQUIRED: Final = frozenset(
    {"email", "name", "kind", "organization_name", "region", "fields", "title", "summary"}
)

# Header names that suggest each target (compared by _key: case, accents, spaces and
# punctuation ignored), in English, Japanese and French.
_HEADER_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "email": (
        "email", "e-mail", "mail", "email address", "e-mail address", "contact email",
        "メール", "メールアドレス", "電子メール", "eメール", "連絡先メール",
        "courriel", "adresse courriel", "adresse électronique", "adresse e-mail", "mél",
    ),
    "name": (
        "name", "full name", "your name", "contact name", "contact person",
        "氏名", "名前", "お名前", "担当者", "担当者名", "代表者", "代表者名",
        "nom", "nom complet", "prénom et nom", "nom et prénom",
    ),
    "kind": (
        "kind", "type", "profile kind", "profile type", "researcher or startup", "category",
        "種別", "区分", "種類", "研究者スタートアップ",
        "type de profil", "catégorie", "chercheur ou jeune pousse",
    ),
    "organization_name": (
        "organization", "organisation", "organization name", "organisation name", "company",
        "company name", "institution", "affiliation", "employer", "university",
        "所属", "所属機関", "所属先", "組織", "組織名", "会社名", "機関名", "企業名", "大学名",
        "organisme", "établissement", "entreprise", "nom de l'organisation", "affiliation",
    ),
    "organization_kind": (
        "organization kind", "organization type", "organisation type", "kind of organization",
        "type of organization", "sector",
        "組織種別", "所属種別", "機関種別", "組織の種類", "機関の種類",
        "type d'organisation", "type d'organisme", "genre d'organisation",
    ),
    "staff_count": (
        "staff", "staff count", "employees", "number of employees", "headcount", "team size",
        "従業員数", "職員数", "社員数", "人数",
        "effectif", "effectifs", "nombre d'employés", "nombre d'employes",
    ),
    "founded_year": (
        "founded", "year founded", "founded year", "founded in", "established", "year established",
        "設立年", "創業年", "設立", "創業", "設立年度",
        "année de fondation", "fondée en", "fondation", "date de fondation",
    ),
    "website": (
        "website", "web site", "url", "homepage", "home page",
        "ウェブサイト", "ホームページ", "webサイト",
        "site web", "site internet",
    ),
    "region": (
        "region", "prefecture", "province", "state", "prefecture or province",
        "province or territory", "prefecture province",
        "都道府県", "地域", "所在地", "州", "都道府県州",
        "région", "préfecture", "province ou territoire",
    ),
    "fields": (
        "fields", "field", "moc fields", "moc field", "research fields", "research field",
        "分野", "研究分野", "対象分野", "技術分野", "moc分野",
        "domaine", "domaines", "domaines du pc", "secteurs",
    ),
    "title": (
        "title", "profile title", "project title", "research title", "project", "topic",
        "タイトル", "題名", "テーマ", "研究テーマ", "研究課題", "件名",
        "titre", "titre du projet", "sujet",
    ),
    "summary": (
        "summary", "description", "abstract",
        "概要", "説明", "要約", "研究概要", "事業概要", "紹介",
        "résumé", "description du projet",
    ),
    "keywords": (
        "keywords", "key words", "keyword", "tags",
        "キーワード", "mots-clés", "mots clés", "mots-clefs",
    ),
    "orcid": ("orcid", "orcid id", "orcid identifier", "orcid番号", "identifiant orcid"),
    "language": (
        "language", "preferred language", "email language", "language of correspondence",
        "言語", "使用言語", "希望言語", "連絡言語",
        "langue", "langue de correspondance", "langue préférée",
    ),
}  # fmt: skip

_PROFILE_KINDS: Final[dict[str, tuple[str, ...]]] = {
    ProfileKind.RESEARCHER: ("researcher", "research", "研究者", "chercheur", "chercheuse"),
    ProfileKind.STARTUP: (
        "startup", "start-up", "スタートアップ", "ベンチャー", "ベンチャー企業",
        "jeune pousse", "entreprise en démarrage",
    ),
}  # fmt: skip
_ORGANIZATION_KINDS: Final[dict[str, tuple[str, ...]]] = {
    OrganizationKind.STARTUP: (
        "startup", "start-up", "スタートアップ", "ベンチャー", "jeune pousse",
    ),
    OrganizationKind.SME: (
        "sme", "small or medium-sized enterprise", "small business", "中小企業", "pme",
    ),
    OrganizationKind.LARGE_COMPANY: (
        "large company", "large enterprise", "大企業", "grande entreprise",
    ),
    OrganizationKind.UNIVERSITY: ("university", "college", "大学", "université", "collège"),
    OrganizationKind.PUBLIC_RESEARCH_INSTITUTE: (
        "public research institute", "research institute", "national laboratory",
        "公的研究機関", "研究機関", "国立研究開発法人",
        "institut public de recherche", "laboratoire public", "laboratoire national",
    ),
    OrganizationKind.OTHER: ("other", "その他", "autre"),
}  # fmt: skip
_LANGUAGES: Final[dict[str, tuple[str, ...]]] = {
    Locale.EN: ("en", "english", "英語", "anglais"),
    Locale.JA: ("ja", "jp", "japanese", "日本語", "japonais"),
    Locale.FR: ("fr", "french", "フランス語", "français"),
}


# --- reading the file --------------------------------------------------------------------


@dataclass(frozen=True)
class ImportRow:
    """One row of the file under the header, numbered as the person sees it (header: 1)."""

    number: int
    cells: tuple[str, ...]
    # Cells with something in them beyond the last column of the header.
    extra_cells: int = 0


@dataclass(frozen=True)
class ImportTable:
    """The header and the non-blank rows of an uploaded file."""

    headers: tuple[str, ...]
    rows: tuple[ImportRow, ...]
    file_format: str  # "csv" or "xlsx"
    # How a CSV file was decoded: "utf-8", "cp932" (Shift_JIS), "cp1252" or "utf-16".
    encoding: str | None = None

    def value(self, row: ImportRow, header: str) -> str:
        """The cell of ``row`` under ``header`` ("" past the end of a short row)."""
        index = self.headers.index(header)
        return row.cells[index] if index < len(row.cells) else ""


def _refuse(message: Message) -> InvalidInput:
    return InvalidInput(str(message), {"file": message})


def read_table(data: bytes, *, filename: str) -> ImportTable:
    """The header and rows of an uploaded CSV file or .xlsx workbook (its first sheet).

    InvalidInput with a readable message under "file" for anything that is not such a
    file (binary, undecodable, too big, no header, no rows, too many rows or columns).
    """
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in ("csv", "tsv", "txt", "xlsx"):
        raise _refuse(Message("Upload a CSV file (.csv) or an Excel workbook (.xlsx)."))
    if not data:
        raise _refuse(Message("The file is empty."))
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(
            Message("The file is larger than %(size)s MB.", size=MAX_FILE_BYTES // 1024 // 1024)
        )
    if data.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: .xls, or an encrypted .xlsx
        raise _refuse(
            Message(
                "This is an old Excel workbook (.xls) or one protected by a password: "
                "save it as .xlsx or as CSV, without a password."
            )
        )
    if data.startswith(b"PK\x03\x04"):  # a zip file: what an .xlsx is, whatever its name
        return _read_xlsx(data)
    if extension == "xlsx":
        raise _refuse(
            Message("This file is not an Excel workbook; open it in Excel and save it as .xlsx.")
        )
    text, encoding = _decode(data)
    return _read_csv(text, encoding)


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise _refuse(_UNDECODABLE) from None
    if b"\x00" in data:
        raise _refuse(
            Message("This is not a CSV file (it holds binary data): save it as CSV or as .xlsx.")
        )
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Japanese Excel saves "CSV (comma delimited)" in Shift_JIS (Microsoft's cp932).
    try:
        text = data.decode("cp932")
    except UnicodeDecodeError:
        pass
    else:
        if not _MISREAD_AS_CP932.search(text):
            return text, "cp932"
    # French Excel on Windows saves "CSV (point-virgule)" in Windows-1252.
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        raise _refuse(_UNDECODABLE) from None


# Windows-1252 French often decodes as cp932 too, but then accented letters turn into
# kanji or half-width kana between Latin letters ("Québec" into "Qu鵜ec"), or into
# characters of cp932's user-defined area; Japanese text does neither.
_MISREAD_AS_CP932: Final = re.compile(r"[a-z][\u3400-\u9fff\uff61-\uff9f][a-z]|[\ue000-\uf8ff]")


_UNDECODABLE: Final = Message(
    "The file's characters cannot be read (it is neither UTF-8 nor Shift_JIS text): "
    "in Excel, save it as “CSV UTF-8”."
)


def _read_csv(text: str, encoding: str) -> ImportTable:
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    if not first_line:
        raise _refuse(Message("The file has no header row."))
    # Comma, or semicolon (French Excel) or tab (Excel's "Unicode text").
    delimiter = max(",;\t", key=lambda d: (first_line.count(d), d == ","))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[tuple[int, list[str]]] = []
    filled = 0
    try:
        # A record is a row as a spreadsheet shows it, even with line breaks inside a value.
        for number, record in enumerate(reader, start=1):
            records.append((number, record))
            filled += any(cell.strip() for cell in record)
            if filled > MAX_ROWS + 1:  # the header and MAX_ROWS rows
                raise _refuse(_too_many_rows())
    except csv.Error:
        raise _refuse(
            Message(
                "This CSV file cannot be read near line %(line)s: check its quotation marks.",
                line=reader.line_num,
            )
        ) from None
    table = _build(records, "csv", encoding)
    if len(table.headers) < 2:
        raise _refuse(
            Message(
                "The header row has only one column: separate the columns with commas, "
                "semicolons or tabs, and put the column names in the first row."
            )
        )
    return table


def _read_xlsx(data: bytes) -> ImportTable:
    import openpyxl  # type: ignore[import-untyped]  # only for workbooks

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of error on a damaged file
        raise _refuse(_UNREADABLE_WORKBOOK) from None
    try:
        if not workbook.worksheets:
            raise _refuse(_UNREADABLE_WORKBOOK)
        sheet = workbook.worksheets[0]
        if not hasattr(sheet, "reset_dimensions"):  # a chart sheet
            raise _refuse(_UNREADABLE_WORKBOOK)
        # Some programs write a wrong size into the sheet: read what is there instead.
        sheet.reset_dimensions()
        records: list[tuple[int, list[str]]] = []
        seen = 0
        rows = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS + 1, values_only=True)
        for number, values in enumerate(rows, start=1):
            record = [_cell_text(value) for value in values]
            records.append((number, record))
            if any(record):
                seen += 1
                if seen > MAX_ROWS + 1:
                    raise _refuse(_too_many_rows())
    except InvalidInput:
        raise
    except Exception:
        raise _refuse(_UNREADABLE_WORKBOOK) from None
    finally:
        workbook.close()
    return _build(records, "xlsx", None)


_UNREADABLE_WORKBOOK: Final = Message(
    "This workbook cannot be read; open it in Excel and save it again as .xlsx."
)


def _too_many_rows() -> Message:
    return Message(
        "The file has more than %(count)s rows: split it into smaller files.", count=MAX_ROWS
    )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps every number as a float: 1950.0 is 1950
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _build(
    records: Iterable[tuple[int, list[str]]], file_format: str, encoding: str | None
) -> ImportTable:
    header: list[str] | None = None
    rows: list[ImportRow] = []
    for number, raw in records:
        cells = [cell.strip() for cell in raw]
        if not any(cells):
            continue  # blank rows are skipped, but still counted in the numbering
        if header is None:
            header = cells
            while header and not header[-1]:
                header.pop()
            continue
        width = len(header)
        extra = sum(1 for cell in cells[width:] if cell)
        rows.append(ImportRow(number, tuple(cells[:width]), extra))
    if header is None:
        raise _refuse(Message("The file has no header row."))
    if len(header) > MAX_COLUMNS:
        raise _refuse(Message("The file has more than %(count)s columns.", count=MAX_COLUMNS))
    if not rows:
        raise _refuse(Message("The file has a header row but no rows under it."))
    if len(rows) > MAX_ROWS:
        raise _refuse(_too_many_rows())
    return ImportTable(_unique_headers(header), tuple(rows), file_format, encoding)


def _unique_headers(header: list[str]) -> tuple[str, ...]:
    # An empty or repeated column name gets its spreadsheet letter, so that every column
    # can be chosen in the mapping.
    seen: set[str] = set()
    names: list[str] = []
    for index, name in enumerate(header):
        unique = name if name and name not in seen else f"{name} [{_column_letter(index)}]".strip()
        seen.add(unique)
        names.append(unique)
    return tuple(names)


# --- mapping the columns -----------------------------------------------------------------


def _key(text: str) -> str:
    """``text`` for comparing names: width, case, Latin accents, spaces and punctuation
    ignored (kana keep their voicing marks)."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    kept = "".join(c for c in decomposed if not "\u0300" <= c <= "\u036f")
    return "".join(c for c in unicodedata.normalize("NFKC", kept) if c.isalnum())


def _lookup(names: Mapping[str, Iterable[str]]) -> dict[str, str]:
    return {_key(name): value for value, aliases in names.items() for name in aliases}


_HEADER_KEYS: Final = {
    target: sorted({_key(target), *(_key(n) for n in names)}, key=len, reverse=True)
    for target, names in _HEADER_NAMES.items()
}


def suggest_mapping(headers: Iterable[str]) -> dict[str, str]:
    """target -> header for the columns whose names say what they hold, in English,
    Japanese or French (each header and each target used at most once)."""
    headers = list(headers)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    # First the exact names, then a header that contains a name ("Email (work)");
    # the longest name contained wins, so "Organization name" is not taken for "name".
    for target in TARGETS:
        for header in headers:
            if header not in used and _key(header) in _HEADER_KEYS[target]:
                mapping[target] = header
                used.add(header)
                break
    for header in headers:
        if header in used:
            continue
        key = _key(header)
        best: tuple[int, str] | None = None
        for target in TARGETS:
            if target in mapping:
                continue
            for name in _HEADER_KEYS[target]:
                # Two letters are too short to mean anything inside a longer name;
                # two kanji (所属, 氏名) are not.
                long_enough = len(name) >= (3 if name.isascii() else 2)
                if long_enough and name in key and (best is None or len(name) > best[0]):
                    best = (len(name), target)
                    break
        if best is not None:
            mapping[best[1]] = header
            used.add(header)
    return {target: mapping[target] for target in TARGETS if target in mapping}


def check_mapping(table: ImportTable, mapping: Mapping[str, str]) -> dict[str, str]:
    """The mapping without its empty choices; InvalidInput with a message per target that
    is required but not chosen, or names a column the file does not have."""
    cleaned = {target: header for target, header in mapping.items() if header}
    errors: dict[str, str] = {}
    for target, header in cleaned.items():
        if target not in TARGETS:
            errors[target] = Message("This is not a column of a profile.")
        elif header not in table.headers:
            errors[target] = Message("Choose a column of the file.")
    for target in TARGETS:
        if target in REQUIRED and target not in cleaned:
            errors[target] = Message("Choose the column that holds this; it is required.")
    if errors:
        raise InvalidInput("incomplete mapping", errors)
    return cleaned


# --- checking the rows -------------------------------------------------------------------


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with one cell (or one row, when ``column`` is empty)."""

    row: int
    column: str
    message: Message


@dataclass(frozen=True)
class ImportReport:
    """The result of a dry run: how many rows, and every problem found."""

    rows: int
    problems: tuple[RowProblem, ...]
    languages: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every row can be imported."""
        return not self.problems

    @property
    def rows_with_problems(self) -> int:
        return len({problem.row for problem in self.problems})


class ImportRefused(InvalidInput):
    """Some rows have problems: nothing was imported. ``report`` lists them."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(
            "the file has problems",
            {"file": Message("%(count)s rows have problems.", count=report.rows_with_problems)},
        )
        self.report = report


@dataclass(frozen=True)
class _Person:
    row: int
    email: str
    name: str
    language: Locale
    details: RegistrantProfile


@dataclass
class _Fields:
    """The MOC fields by every name a file may use for them."""

    by_name: dict[str, str]
    # Full labels that contain a separator ("Clean technology, clean energy and ...").
    long_labels: list[tuple[str, str]]

    @classmethod
    def of(cls, fields: list[Field]) -> _Fields:
        by_name: dict[str, str] = {}
        long_labels: list[tuple[str, str]] = []
        for moc_field in fields:
            names = {moc_field.code, moc_field.code.replace("_", " ")}
            for label in (moc_field.label_en, moc_field.label_ja, moc_field.label_fr):
                label = unicodedata.normalize("NFKC", label)
                names.add(label)
                # "Artificial intelligence (AI)": also "Artificial intelligence" and "AI".
                before, _, inside = label.partition("(")
                names.update({before, inside.rstrip(")")})
                # "Clean technology, clean energy and ...": also "Clean technology".
                names.add(re.split(r"[,、]", label)[0])
                if re.search(r"[,、;]", label):
                    long_labels.append((label.casefold(), moc_field.code))
            for name in names:
                if _key(name):
                    by_name[_key(name)] = moc_field.code
        long_labels.sort(key=lambda pair: len(pair[0]), reverse=True)
        return cls(by_name, long_labels)

    def parse(self, raw: str) -> tuple[list[str], list[str]]:
        """(codes, unknown names) in a cell such as "quantum; Semiconductors"."""
        text = unicodedata.normalize("NFKC", raw).casefold()
        for label, code in self.long_labels:
            text = text.replace(label, f";{code};")
        codes: dict[str, None] = {}
        unknown: list[str] = []
        for part in re.split(r"[;,、\n]", text):
            name = part.strip()
            if not name:
                continue
            known = self.by_name.get(_key(name))
            if known is None:
                unknown.append(name)
            else:
                codes.setdefault(known, None)
        return list(codes), unknown


def _region_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for code, region in REGIONS.items():
        suffix = code.split("-")[1]
        aliases = {code, region.name_en, region.name_fr, region.name_ja}
        if region.country == "JP":
            aliases.add(re.sub(r"[都道府県]$", "", region.name_ja))  # 東京, 大阪, 北海
            aliases.add(f"{region.name_en} prefecture")
        else:
            aliases.add(suffix)  # QC, ON, BC: as Canadians write them
            aliases.add(re.sub(r"準?州$", "", region.name_ja))
        for alias in aliases:
            names[_key(alias)] = code
    names[_key("PEI")] = "CA-PE"
    return names


_REGIONS_BY_NAME: Final = _region_names()
_PROFILE_KIND_KEYS: Final = _lookup(_PROFILE_KINDS)
_ORGANIZATION_KIND_KEYS: Final = {
    **{_key(kind.value): kind.value for kind in OrganizationKind},
    **_lookup(_ORGANIZATION_KINDS),
}
_LANGUAGE_KEYS: Final = _lookup(_LANGUAGES)


def parse_region(raw: str) -> str | None:
    """The ISO code of a region given by code (JP-13, CA-QC, QC) or by its name in English,
    French or Japanese (Tokyo, Québec, 東京都, 東京); None when unknown."""
    return _REGIONS_BY_NAME.get(_key(raw)) if raw.strip() else None


def _whole_number(raw: str) -> int | None:
    text = unicodedata.normalize("NFKC", raw).strip()
    text = re.sub(r"[,\s_'’]", "", text)  # 1,200 / 1 200 / 1'200
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        text = text[:4]  # a date where a year is expected (Excel turns 1950 into dates)
    text = re.sub(r"\.0+$", "", text)
    return int(text) if re.fullmatch(r"\d{1,9}", text) else None


def _default_language(region: str) -> Locale:
    if region.startswith("JP-"):
        return Locale.JA
    return Locale.FR if region == "CA-QC" else Locale.EN


def _check_rows(
    session: Session, table: ImportTable, mapping: Mapping[str, str]
) -> tuple[list[_Person], list[RowProblem]]:
    mapping = check_mapping(table, mapping)
    fields = _Fields.of(list_fields(session))
    people: list[_Person] = []
    problems: list[RowProblem] = []
    first_row_of: dict[str, int] = {}
    for row in table.rows:
        found: dict[str, Message] = {}

        def cell(target: str, row: ImportRow = row) -> str:
            header = mapping.get(target)
            return table.value(row, header) if header else ""

        if row.extra_cells:
            problems.append(
                RowProblem(
                    row.number,
                    "",
                    Message(
                        "This row has %(count)s more cells than the header: check for "
                        "commas inside a value that is not in quotation marks.",
                        count=row.extra_cells,
                    ),
                )
            )
        email = accounts.normalise_email(unicodedata.normalize("NFKC", cell("email")))
        if not email:
            found["email"] = Message("Give the person's email address.")
        elif problem := accounts.email_problem(email):
            found["email"] = problem
        elif email in first_row_of:
            found["email"] = Message(
                "The same address is on row %(row)s of this file.", row=first_row_of[email]
            )
        if email:
            first_row_of.setdefault(email, row.number)
        name = " ".join(cell("name").split())
        if not name:
            found["name"] = Message("Give the person's name.")
        elif len(name) > MAX_NAME_LENGTH:
            found["name"] = Message("Keep the name under 200 characters.")

        kind = _PROFILE_KIND_KEYS.get(_key(cell("kind")))
        if kind is None:
            found["kind"] = Message("Enter researcher or startup.")
        organization_kind: str | None = (
            OrganizationKind.STARTUP if kind == ProfileKind.STARTUP else OrganizationKind.OTHER
        )
        if raw_kind := cell("organization_kind"):
            organization_kind = _ORGANIZATION_KIND_KEYS.get(_key(raw_kind))
            if organization_kind is None:
                found["organization_kind"] = Message(
                    "Unknown kind of organization “%(value)s”: use startup, sme, "
                    "large_company, university, public_research_institute or other.",
                    value=raw_kind,
                )
        numbers: dict[str, int | None] = {}
        for target in ("staff_count", "founded_year"):
            raw = cell(target)
            numbers[target] = _whole_number(raw) if raw else None
            if raw and numbers[target] is None:
                found[target] = Message("Enter a whole number.")
        raw_region = cell("region")
        region = parse_region(raw_region)
        if not raw_region:
            found["region"] = Message(
                "Give the prefecture, province or territory (a name, or a code such as "
                "JP-13 or CA-QC)."
            )
        elif region is None:
            found["region"] = Message(
                "Unknown prefecture, province or territory “%(value)s”: give its name, or a "
                "code such as JP-13 or CA-QC.",
                value=raw_region,
            )
        codes, unknown = fields.parse(cell("fields"))
        if unknown:
            found["fields"] = Message(
                "Unknown MOC field “%(value)s”: use a code such as quantum, or the field's "
                "name, separated by semicolons.",
                value=unknown[0],
            )
        language = _default_language(region or "")
        if raw_language := cell("language"):
            chosen = _LANGUAGE_KEYS.get(_key(raw_language))
            if chosen is None:
                found["language"] = Message("Enter en, ja or fr.")
            else:
                language = Locale(chosen)
        details = RegistrantProfile(
            kind=ProfileKind(kind or ProfileKind.RESEARCHER),
            organization_name=cell("organization_name"),
            organization_kind=OrganizationKind(organization_kind or OrganizationKind.OTHER),
            region=region or "",
            staff_count=numbers["staff_count"],
            founded_year=numbers["founded_year"],
            website=cell("website"),
            orcid=cell("orcid"),
            changes=ProfileChanges(
                title=cell("title"),
                summary=cell("summary"),
                field_codes=codes,
                keywords=parse_keywords(cell("keywords").replace(";", ",")),
                availability=Availability.OPEN,
            ),
        )
        # The profile form's own checks; a column already found wrong keeps its first message.
        for target, message in validate_registrant(session, details).items():
            found.setdefault(target, message if isinstance(message, Message) else Message(message))
        for target in TARGETS:
            if target in found:
                problems.append(RowProblem(row.number, mapping.get(target, ""), found[target]))
        for target in found.keys() - set(TARGETS):
            problems.append(RowProblem(row.number, "", found[target]))
        if not found and not row.extra_cells:
            people.append(_Person(row.number, email, name, language, details))
    problems.extend(_already_known(session, table, mapping, first_row_of))
    problems.sort(key=lambda p: (p.row, _column_order(table, p.column)))
    return people, problems


def _column_order(table: ImportTable, column: str) -> int:
    return table.headers.index(column) if column in table.headers else -1


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _already_known(
    session: Session, table: ImportTable, mapping: Mapping[str, str], rows: dict[str, int]
) -> list[RowProblem]:
    """A problem for each address that an account or a profile uses already."""
    addresses = list(rows)
    with_account: set[str] = set()
    with_profile: set[str] = set()
    for chunk in _chunks(addresses):
        with_account.update(
            session.scalars(select(func.lower(User.email)).where(func.lower(User.email).in_(chunk)))
        )
        with_profile.update(
            session.scalars(
                select(func.lower(Profile.contact_email)).where(
                    func.lower(Profile.contact_email).in_(chunk)
                )
            )
        )
    problems: list[RowProblem] = []
    column = mapping["email"]
    for address in addresses:
        if address in with_account:
            message = Message(
                "An account already uses this address: the person can write a profile "
                "themselves after logging in."
            )
        elif address in with_profile:
            message = Message("A profile with this contact address exists already.")
        else:
            continue
        problems.append(RowProblem(rows[address], column, message))
    return problems


def dry_run(session: Session, table: ImportTable, mapping: Mapping[str, str]) -> ImportReport:
    """Every problem of every row, as (row, column, message); writes nothing.

    InvalidInput (a message per target) when the mapping itself is incomplete.
    """
    people, problems = _check_rows(session, table, mapping)
    languages = Counter(person.language.value for person in people)
    return ImportReport(rows=len(table.rows), problems=tuple(problems), languages=dict(languages))


def import_profiles(
    session: Session,
    table: ImportTable,
    mapping: Mapping[str, str],
    *,
    officer: User,
    links: Links,
) -> int:
    """Create an organization and an unclaimed, unconsented profile per row and queue each
    person's invitation; returns how many. All or nothing: ImportRefused (with the report)
    before anything is written if any row has a problem."""
    if officer.role not in (Role.OFFICER, Role.ADMIN):
        raise PermissionDenied("only program officers import profiles")
    people, problems = _check_rows(session, table, mapping)
    if problems:
        raise ImportRefused(
            ImportReport(rows=len(table.rows), problems=tuple(problems), languages={})
        )
    by_code = {f.code: f for f in list_fields(session)}
    created: list[tuple[_Person, Profile]] = []
    for person in people:
        details = person.details
        changes = details.changes
        country = Country(details.region.split("-")[0])
        organization = Organization(
            name=details.organization_name.strip(),
            country=country,
            kind=details.organization_kind,
            staff_count=details.staff_count,
            founded_year=details.founded_year,
            website=details.website.strip() or None,
        )
        # No owner and no consent: nobody sees the profile and it is not matched (so no
        # rematch request) until the person claims it and consents.
        profile = Profile(
            owner=None,
            organization=organization,
            kind=details.kind,
            country=country,
            region=details.region,
            contact_name=person.name,
            contact_email=person.email,
            title=changes.title.strip(),
            summary=changes.summary.strip(),
            language=Locale(detect_language(changes.summary)),
            keywords=changes.keywords,
            seeking=[],
            collaboration_types=[],
            fields=[by_code[code] for code in changes.field_codes],
            availability=Availability.OPEN,
            consent_at=None,
            consent_version=None,
            orcid=normalise_orcid(details.orcid) if details.orcid.strip() else None,
        )
        session.add(profile)
        created.append((person, profile))
    session.flush()
    for person, profile in created:
        link = links.url(CLAIM_PROFILE, {"p": profile.id, "e": person.email})
        emails.queue_email(
            session,
            to_address=person.email,
            locale=person.language,
            kind="invitation",
            # The page opens in the invitation's language (?lang= is remembered).
            link=f"{link}?lang={person.language.value}",
            name=person.name,
            organization=profile.organization.name,
            title=profile.title,
            days=INVITATION_DAYS,
        )
    languages = Counter(person.language.value for person in people)
    audit.record(
        session,
        actor_id=officer.id,
        action="profiles.imported",
        subject_type="import",
        details={
            "format": table.file_format,
            "rows": len(table.rows),
            "profiles": len(created),
            "invitations": len(created),
            "languages": dict(sorted(languages.items())),
        },
    )
    return len(created)


# --- claiming an imported profile ----------------------------------------------------------


@dataclass(frozen=True)
class Invitation:
    """What a claim link stands for: an unclaimed profile and the address invited."""

    profile_id: int
    email: str
    name: str
    organization: str
    title: str
    # The account that already uses the address, if any.
    account_id: int | None


def _invited_profile(
    session: Session, token: str, links: Links, *, lock: bool = False
) -> tuple[Profile, str]:
    payload = links.read(CLAIM_PROFILE, token)
    profile_id = payload.get("p")
    email = accounts.normalise_email(str(payload.get("e", "")))
    profile = (
        session.get(Profile, profile_id, with_for_update=lock)
        if isinstance(profile_id, int)
        else None
    )
    if profile is None or accounts.normalise_email(profile.contact_email) != email:
        raise InvalidInput("this link is not valid", {"token": "invalid"})
    if profile.owner_id is not None:
        raise InvalidInput("this profile is claimed already", {"token": "claimed"})
    return profile, email


def read_invitation(session: Session, *, token: str, links: Links) -> Invitation:
    """The invitation a claim link stands for. InvalidInput with errors["token"] "invalid",
    "expired" or "claimed" (the link was used)."""
    profile, email = _invited_profile(session, token, links)
    account_id = session.scalar(select(User.id).where(func.lower(User.email) == email))
    return Invitation(
        profile_id=profile.id,
        email=email,
        name=profile.contact_name,
        organization=profile.organization.name,
        title=profile.title,
        account_id=account_id,
    )


def _attach(session: Session, profile: Profile, user: User) -> None:
    profile.owner = user
    profile.contact_name = user.display_name or profile.contact_name
    profile.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor_id=user.id,
        action="profile.claimed",
        subject_type="profile",
        subject_id=profile.id,
    )


def claim_with_new_account(
    session: Session,
    *,
    token: str,
    links: Links,
    password: str,
    display_name: str,
    locale: Locale,
) -> User:
    """Create the invited person's account, verified (the link proves the address), and
    make them the owner of the profile. The profile still needs their consent.

    InvalidInput for a bad link or a weak password (errors["password"]); Conflict when an
    account uses the address already (they log in and use :func:`claim_for_user`).
    """
    profile, email = _invited_profile(session, token, links, lock=True)
    user = accounts.create_user(
        session,
        email=email,
        password=password,
        display_name=display_name.strip() or profile.contact_name,
        locale=locale,
        verified=True,
    )
    _attach(session, profile, user)
    return user


def claim_for_user(session: Session, *, token: str, links: Links, user: User) -> Profile:
    """Give the profile to the logged-in ``user`` whose address the link was sent to.

    PermissionDenied for another address; Conflict when the account has a profile already.
    """
    profile, email = _invited_profile(session, token, links, lock=True)
    if accounts.normalise_email(user.email) != email:
        raise PermissionDenied("this invitation is for another address")
    if profile_of(session, user.id) is not None:
        raise Conflict("this account has a profile already")
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        audit.record(
            session,
            actor_id=user.id,
            action="account.verified",
            subject_type="user",
            subject_id=user.id,
        )
    _attach(session, profile, user)
    return profile
