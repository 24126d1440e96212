"""Program officers' console: importing profiles from a CSV file or an .xlsx workbook.

Four steps: upload, column mapping, dry run, import. The uploaded bytes wait between steps
in the instance folder under a random name; the browser session keeps only that name
(checked against a strict pattern before use), never the contents.
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import RequestEntityTooLarge

from core.db import session_scope
from core.errors import InvalidInput
from core.services import imports
from core.services.imports import ImportReport, ImportTable
from web.auth import officer_required
from web.support import acting_user, hand_over, links, settings

bp = Blueprint("imports", __name__, url_prefix="/officer/import")

_SESSION_KEY = "officer_import"
_STORED_NAME = re.compile(r"\A[0-9a-f]{32}\.(?:csv|xlsx)\Z")
# Uploads left behind (an officer who never finished) are removed after a day.
_KEEP_SECONDS = 24 * 3600
# Room for the multipart envelope around the file itself.
_ENVELOPE_BYTES = 64 * 1024

TARGET_LABELS = {
    "email": _l("Email address"),
    "name": _l("Name"),
    "kind": _l("Researcher or startup"),
    "organization_name": _l("Organization name"),
    "organization_kind": _l("Kind of organization"),
    "staff_count": _l("Staff count"),
    "founded_year": _l("Year founded"),
    "website": _l("Website"),
    "region": _l("Prefecture, province or territory"),
    "fields": _l("MOC fields"),
    "title": _l("Title"),
    "summary": _l("Summary"),
    "keywords": _l("Keywords"),
    "orcid": _l("ORCID iD"),
    "language": _l("Language of the invitation"),
}
TARGET_HINTS = {
    "kind": _l("researcher or startup"),
    "organization_kind": _l(
        "startup, sme, large_company, university, public_research_institute or other; "
        "when empty: startup for startups, other for researchers"
    ),
    "region": _l("A code such as JP-13 or CA-QC, or the name in English, Japanese or French"),
    "fields": _l("Codes or names of MOC fields, separated by semicolons"),
    "keywords": _l("Separated by commas"),
    "language": _l("en, ja or fr; when empty: Japanese in Japan, French in Quebec, else English"),
}
ENCODINGS = {
    "utf-8": "UTF-8",
    "cp932": "Shift_JIS (cp932)",
    "cp1252": "Windows-1252",
    "utf-16": "UTF-16",
}


class StepForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: the fields of each step are built from the file."""


# --- the uploaded file, kept between steps -------------------------------------------------


def _folder() -> Path:
    return settings().instance_path / "imports"


def _store(data: bytes, file_format: str) -> str:
    folder = _folder()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    _sweep(folder)
    name = f"{secrets.token_hex(16)}.{file_format}"
    partial = folder / f"{name}.part"
    partial.write_bytes(data)
    partial.replace(folder / name)
    return name


def _sweep(folder: Path) -> None:
    cutoff = time.time() - _KEEP_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:  # removed meanwhile by another request
            pass


def _stored() -> tuple[str, str] | None:
    """(stored name, file name as uploaded) of this browser's upload, if it is still there."""
    kept = session.get(_SESSION_KEY)
    if not isinstance(kept, dict):
        return None
    name, filename = kept.get("name"), kept.get("filename")
    if not isinstance(name, str) or not _STORED_NAME.match(name):
        return None
    if not (_folder() / name).is_file():
        return None
    return name, str(filename or name)


def _discard(name: str) -> None:
    if _STORED_NAME.match(name):
        (_folder() / name).unlink(missing_ok=True)
    session.pop(_SESSION_KEY, None)


def _table() -> tuple[ImportTable, str] | None:
    """The stored upload read again, with its file name; None when there is none."""
    stored = _stored()
    if stored is None:
        return None
    name, filename = stored
    try:
        table = imports.read_table((_folder() / name).read_bytes(), filename=name)
    except InvalidInput:
        return None
    return table, filename


def _upload_again() -> ResponseReturnValue:
    flash(_("Upload the file again: the previous upload is no longer here."), "error")
    return redirect(url_for("imports.upload"))


def _mapping_from_form() -> dict[str, str]:
    return {target: request.form.get(f"map-{target}", "") for target in imports.TARGETS}


# --- the steps ---------------------------------------------------------------------------


@bp.url_value_preprocessor
def allow_the_upload_size(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # Runs before the CSRF check reads the body: the app's limit for every other request
    # is smaller than an import file may be.
    if endpoint == "imports.upload" and request.method == "POST":
        request.max_content_length = imports.MAX_FILE_BYTES + _ENVELOPE_BYTES


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    if not (current_user.is_authenticated and current_user.is_officer):
        return render_template("error.html", status=413, message=""), 413
    message = _("The file is larger than %(size)s MB.", size=imports.MAX_FILE_BYTES // 1024 // 1024)
    # The body cannot be read again: a form without it, only for the CSRF token.
    return _upload_page(StepForm(formdata=None), error=message, status=400)


def _upload_page(form: StepForm, *, error: str | None = None, status: int = 200) -> tuple[str, int]:
    page = render_template(
        "officer/import/upload.html",
        form=form,
        error=error,
        max_mb=imports.MAX_FILE_BYTES // 1024 // 1024,
        max_rows=imports.MAX_ROWS,
        targets=imports.TARGETS,
        required=imports.REQUIRED,
        labels=TARGET_LABELS,
    )
    return page, status


@bp.route("/", methods=["GET", "POST"])
@officer_required
def upload() -> ResponseReturnValue:
    """Step 1: the file."""
    from web import translate

    form = StepForm()
    if request.method == "GET":
        return _upload_page(form)
    if not form.validate_on_submit():
        return _upload_page(form, error=_("The form expired; try again."), status=400)
    uploaded = request.files.get("file")
    if uploaded is None or not uploaded.filename:
        return _upload_page(form, error=_("Choose a file to upload."), status=400)
    data = uploaded.stream.read(imports.MAX_FILE_BYTES + 1)
    try:
        table = imports.read_table(data, filename=uploaded.filename)
    except InvalidInput as error:
        return _upload_page(form, error=translate(error.errors.get("file", "")), status=400)
    previous = _stored()
    if previous is not None:
        _discard(previous[0])
    name = _store(data, table.file_format)
    session[_SESSION_KEY] = {"name": name, "filename": uploaded.filename[:200]}
    return redirect(url_for("imports.mapping"))


def _mapping_page(
    table: ImportTable,
    filename: str,
    mapping: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    page = render_template(
        "officer/import/mapping.html",
        form=StepForm(),
        table=table,
        filename=filename,
        encoding=ENCODINGS.get(table.encoding or ""),
        preview=table.rows[:3],
        mapping=mapping,
        errors=errors or {},
        targets=imports.TARGETS,
        required=imports.REQUIRED,
        labels=TARGET_LABELS,
        hints=TARGET_HINTS,
    )
    return page, status


@bp.route("/mapping", methods=["GET"])
@officer_required
def mapping() -> ResponseReturnValue:
    """Step 2: which column of the file holds what (suggested from the column names)."""
    loaded = _table()
    if loaded is None:
        return _upload_again()
    table, filename = loaded
    return _mapping_page(table, filename, imports.suggest_mapping(table.headers))


def _report_page(
    table: ImportTable,
    filename: str,
    mapping: dict[str, str],
    report: ImportReport,
    *,
    status: int = 200,
) -> tuple[str, int]:
    page = render_template(
        "officer/import/report.html",
        form=StepForm(),
        table=table,
        filename=filename,
        mapping=mapping,
        report=report,
    )
    return page, status


@bp.route("/check", methods=["POST"])
@officer_required
def check() -> ResponseReturnValue:
    """Step 3: the dry run, every row's problems; nothing is written."""
    loaded = _table()
    if loaded is None:
        return _upload_again()
    table, filename = loaded
    form = StepForm()
    chosen = _mapping_from_form()
    if not form.validate_on_submit():
        return _mapping_page(table, filename, chosen, status=400)
    try:
        with session_scope() as db:
            report = imports.dry_run(db, table, chosen)
    except InvalidInput as error:
        return _mapping_page(table, filename, chosen, errors=error.errors, status=400)
    mapping = {target: header for target, header in chosen.items() if header}
    return _report_page(table, filename, mapping, report)


@bp.route("/run", methods=["POST"])
@officer_required
def run() -> ResponseReturnValue:
    """Step 4: the import, all or nothing, then the invitations go out."""
    stored = _stored()
    loaded = _table()
    if stored is None or loaded is None:
        return _upload_again()
    table, filename = loaded
    form = StepForm()
    chosen = _mapping_from_form()
    if not form.validate_on_submit():
        return _mapping_page(table, filename, chosen, status=400)
    try:
        with session_scope() as db:
            count = imports.import_profiles(
                db, table, chosen, officer=acting_user(db), links=links()
            )
    except imports.ImportRefused as refused:
        # Something changed since the dry run (someone registered meanwhile): nothing
        # was written; show what is wrong now.
        mapping = {target: header for target, header in chosen.items() if header}
        return _report_page(table, filename, mapping, refused.report, status=400)
    except InvalidInput as error:
        return _mapping_page(table, filename, chosen, errors=error.errors, status=400)
    hand_over()
    _discard(stored[0])
    session[f"{_SESSION_KEY}_done"] = count
    return redirect(url_for("imports.done"))


@bp.route("/done", methods=["GET"])
@officer_required
def done() -> ResponseReturnValue:
    """What the import did."""
    count = session.pop(f"{_SESSION_KEY}_done", None)
    if not isinstance(count, int):
        return redirect(url_for("imports.upload"))
    return render_template("officer/import/done.html", count=count)
