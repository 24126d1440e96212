"""The pages people use, in a real browser: languages, logging in, matches, the officer console,
phone widths and the keyboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from core.services.demo import DEMO_PASSWORD
from tests.browser.conftest import LiveServer, NewPage, screenshot

pytestmark = pytest.mark.browser

RESEARCHER = "researcher@demo.grantmatch.example"
OFFICER = "officer@demo.grantmatch.example"
FIELD_COUNT = 7  # the fields of cooperation of the 2023 MOC


def log_in(page: Page, server: LiveServer, email: str, *, lang: str = "en") -> None:
    """Log in through the form; ``lang`` pins the page language (else the account's)."""
    page.goto(f"{server.url}/login?lang={lang}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_home_page_switches_language(page: Page, live_server: LiveServer) -> None:
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Fields of cooperation")).to_be_visible()
    languages = page.get_by_role("navigation", name="Language")

    languages.get_by_role("link", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", name="協力分野")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("パートナー"))
    screenshot(page, "home-ja")

    page.get_by_role("navigation", name="言語").get_by_role("link", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Domaines de coopération")).to_be_visible()

    # The choice stays for the rest of the visit.
    page.goto(live_server.url + "/login")
    expect(page.locator("html")).to_have_attribute("lang", "fr")


def test_researcher_logs_in_and_sees_proposals(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, RESEARCHER)
    expect(page).to_have_url(re.compile(r"/matches/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My matches")
    proposals = page.locator("li.proposal")
    expect(proposals.first).to_be_visible()
    assert proposals.count() >= 1
    screenshot(page, "researcher-matches")


def test_officer_sees_the_console_with_every_field(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, OFFICER)
    expect(page).to_have_url(re.compile(r"/officer/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Officer console")
    fields = page.get_by_role("table").first.locator("tbody tr")
    expect(fields).to_have_count(FIELD_COUNT)
    for row in fields.all():
        expect(row.get_by_role("link")).to_have_text(re.compile(r"\S"))
    screenshot(page, "officer-console")


def test_matches_fit_a_phone_screen(new_page: NewPage, live_server: LiveServer) -> None:
    page = new_page(width=390, height=844, is_mobile=True, has_touch=True)
    log_in(page, live_server, RESEARCHER)
    expect(page.locator("li.proposal").first).to_be_visible()
    overflow = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    scroll_width, client_width = overflow
    assert scroll_width <= client_width + 1, f"scrolls sideways: {scroll_width} > {client_width}"
    screenshot(page, "researcher-matches-phone")


def tab_to(page: Page, target: Locator, *, at_most: int) -> None:
    """Press Tab until ``target`` has the focus, at most ``at_most`` times."""
    for _ in range(at_most):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    focused = page.evaluate("() => document.activeElement?.outerHTML.slice(0, 120)")
    pytest.fail(f"{at_most} Tab presses did not reach {target}; the focus is on {focused}")


def test_login_form_works_from_the_keyboard(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.url}/login?lang=en")
    # Past the skip link, the site navigation and the languages, then the form in order.
    tab_to(page, page.get_by_label("Email"), at_most=20)
    page.keyboard.type(RESEARCHER)
    tab_to(page, page.get_by_label("Password"), at_most=3)
    page.keyboard.type(DEMO_PASSWORD)
    tab_to(page, page.get_by_role("button", name="Log in"), at_most=3)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("My matches")
