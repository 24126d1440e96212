"""Languages outside a web request: message catalogs and plain-text templates for email.

The catalogs under core/translations serve both the web pages (Flask-Babel reads them)
and what the service writes on its own, such as emails sent by a background task in
the recipient's language.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any

import jinja2
from babel.dates import format_datetime
from babel.support import Translations

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
LOCALES = ("en", "ja", "fr")


def supported(locale: str | None) -> str:
    """``locale`` if the service speaks it, else English."""
    return locale if locale in LOCALES else "en"


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalog of ``locale`` (English strings are the message ids)."""
    locale = supported(locale)
    if locale == "en":
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS_DIR), [locale])


def gettext(locale: str, message: str, **variables: Any) -> str:
    """``message`` in ``locale``, with %(name)s placeholders filled in."""
    text = translations(locale).gettext(message)
    return text % variables if variables else text


@cache
def _environment(locale: str) -> jinja2.Environment:
    # Plain text, so no HTML escaping; a missing variable is an error, not a blank.
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    environment.filters["datetime"] = lambda value: format_when(value, locale)
    return environment


def format_when(value: datetime, locale: str) -> str:
    """A date and time the way readers of ``locale`` write it (UTC)."""
    return format_datetime(value, "medium", tzinfo=None, locale=supported(locale)) + " UTC"


def render_text(template: str, locale: str, **context: Any) -> str:
    """Render a plain-text template of core/templates in ``locale``."""
    return _environment(supported(locale)).get_template(template).render(**context)
