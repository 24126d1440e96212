"""Template translations resolved once per request: same results as Flask-Babel's."""

from __future__ import annotations

from babel import numbers
from flask import Flask, render_template_string
from flask_babel import force_locale

PAGE = (
    '{{ _("%(count)s pairs.", count=count) }}|{{ _("Next") }}|'
    '{{ ngettext("%(num)s new partner proposed", "%(num)s new partners proposed", 2) }}|'
    "{{ format_decimal(1234.5) }}|{{ region_name('JP-13') }}|{{ get_locale() }}"
)


def test_strings_are_translated_formatted_and_escaped(app: Flask) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        page = render_template_string(PAGE, count="<b>3</b>")
    translated, following, plural, number, region, locale = page.split("|")
    assert translated == "&lt;b&gt;3&lt;/b&gt; jumelages."
    assert following == "Suivant"
    assert plural == "2 nouveaux partenaires proposés"
    assert number == numbers.format_decimal(1234.5, locale="fr")
    assert region == "Tōkyō" and locale == "fr"


def test_the_locale_is_looked_up_once_per_request(app: Flask) -> None:
    template = '{{ _("Next") }}'
    with app.test_request_context("/", headers={"Accept-Language": "ja"}):
        assert render_template_string(template) == "次へ"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render_template_string(template) == "Next"
        with force_locale("fr"):
            # The page's language is settled by its first string; another language
            # takes another request.
            assert render_template_string(template) == "Next"
