"""Every interface string is translated into Japanese and French, placeholders intact."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "core" / "translations"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "Message": None,
}
METHODS = [
    ("web/**.py", "python"),
    ("core/**.py", "python"),
    ("web/templates/**.html", "jinja2"),
    ("core/templates/**.txt", "jinja2"),
]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def source_messages() -> set[str]:
    """The strings marked for translation in the code and templates, as they are now."""
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map=METHODS, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("locale", ["ja", "fr"])
def test_every_interface_string_is_translated(locale: str) -> None:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    missing = []
    for msgid in sorted(source_messages()):
        message = catalog.get(msgid)
        # A plural entry holds one string per plural form of the language.
        forms = (message.string,) if message and isinstance(message.string, str) else ()
        if message is not None and not forms:
            forms = tuple(message.string)
        if message is None or not all(forms) or message.fuzzy:
            missing.append(msgid)
            continue
        for form in forms:
            assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(form)), msgid
    assert missing == [], f"untranslated in {locale}: {missing}"


@pytest.mark.parametrize(
    ("lang", "expected"), [("ja", "ログイン"), ("fr", "session"), ("en", "Log in")]
)
def test_pages_are_served_in_the_chosen_language(
    client: FlaskClient, lang: str, expected: str
) -> None:
    page = client.get(f"/login?lang={lang}").get_data(as_text=True)
    assert expected in page
    assert f'<html lang="{lang}">' in page


def test_a_japanese_account_sees_japanese_pages(client: FlaskClient) -> None:
    login(client, "researcher@demo.grantmatch.example")
    page = client.get("/matches/").get_data(as_text=True)
    assert "量子" in page  # field label
    assert "My matches" not in page
