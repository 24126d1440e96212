"""Translations and locale-aware formatting for the Jinja templates, resolved once per
request.

Flask-Babel's template callables resolve the locale and the catalog on every string,
and Jinja's i18n extension passes the whole template context to them, which inside a
loop means copying the context for every call: on a page of 50 rows that was most of
the rendering time. These take only the evaluation context (for autoescaping) and keep
the newstyle gettext semantics: variables are %-formatted into the translation and
escaped, ``num`` is given to plural forms.
"""

from __future__ import annotations

from typing import Any

from babel import Locale, numbers
from babel.support import NullTranslations
from flask import Flask, g
from flask_babel import get_locale, get_translations
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from core.regions import region_name


def page_locale() -> Locale:
    """The locale of the page being rendered, looked up once per request."""
    found = g.get("page_locale")
    if found is None:
        found = g.page_locale = get_locale() or Locale("en")
    return found  # type: ignore[no-any-return]


def page_translations() -> NullTranslations:
    """The catalog of the page being rendered, looked up once per request."""
    found = g.get("page_translations")
    if found is None:
        found = g.page_translations = get_translations()
    return found  # type: ignore[no-any-return]


def _formatted(eval_ctx: EvalContext, text: str, variables: dict[str, Any]) -> str:
    if eval_ctx.autoescape:
        return Markup(text) % variables
    return text % variables


@pass_eval_context
def gettext(eval_ctx: EvalContext, string: str, **variables: Any) -> str:
    return _formatted(eval_ctx, page_translations().ugettext(string), variables)


@pass_eval_context
def ngettext(eval_ctx: EvalContext, singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    return _formatted(eval_ctx, page_translations().ungettext(singular, plural, num), variables)


@pass_eval_context
def pgettext(eval_ctx: EvalContext, context: str, string: str, **variables: Any) -> str:
    return _formatted(eval_ctx, page_translations().upgettext(context, string), variables)


@pass_eval_context
def npgettext(
    eval_ctx: EvalContext, context: str, singular: str, plural: str, num: int, **variables: Any
) -> str:
    variables.setdefault("num", num)
    text = page_translations().unpgettext(context, singular, plural, num)
    return _formatted(eval_ctx, text, variables)


def format_decimal(number: float, format: str | None = None) -> str:
    return str(numbers.format_decimal(number, format=format, locale=page_locale()))


def install(app: Flask) -> None:
    """Replace the template callables Flask-Babel installed (call after Babel.init_app)."""
    app.jinja_env.globals.update(
        _=gettext,
        gettext=gettext,
        ngettext=ngettext,
        pgettext=pgettext,
        npgettext=npgettext,
        get_locale=lambda: str(page_locale()),
        format_decimal=format_decimal,
        region_name=lambda code: region_name(code, str(page_locale())),
    )
