"""A program officer's working session, in a real browser and through the pages only.

The officer logs in, filters the review queue, opens a pair, approves it, creates a grant
call, runs balanced introductions, releases them and exports the queue and the call as CSV.

Elements are found by their form names, values and link targets rather than by their
labels wherever practical, so that the test holds while the translations change.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from core.services.demo import DEMO_PASSWORD
from tests.browser.conftest import LiveServer, screenshot

pytestmark = pytest.mark.browser

OFFICER = "officer@demo.grantmatch.example"
FIELD = "quantum"
MIN_SCORE = 0.5
RUN = uuid.uuid4().hex[:8]  # the call's title stays unique if the session server is reused
CALL_TITLE = f"Quantum hardware partnerships {RUN}"
CALL_DESCRIPTION = (
    "Joint research between Japanese universities or startups and Canadian startups or "
    "SMEs on quantum hardware."
)
EXCLUDED_TERM = "photonic"  # in several quantum profiles of the demo world
OPENS_ON = "2026-04-01"
CLOSES_ON = "2026-09-30"
CAPACITY = "2"
NOTE = f"Strong complementary hardware expertise ({RUN})."
PAIR_HREF = re.compile(r"^/officer/pairs/(\d+)-(\d+)$")


def submit(form: Locator) -> None:
    form.locator("button[type=submit]").first.click()


def log_in(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/login?lang=en")
    form = page.locator("main form:has(input[name=password])")
    form.locator("input[name=email]").fill(OFFICER)
    form.locator("input[name=password]").fill(DEMO_PASSWORD)
    submit(form)
    expect(page, "logging in did not lead to the officer console").to_have_url(
        re.compile(r"/officer/$")
    )
    expect(page.locator("header form[action='/logout']")).to_be_visible()


def officer_nav(page: Page, href: str) -> None:
    """Follow a link of the officer console's navigation."""
    page.locator(f"nav.subnav a[href='{href}']").click()


def filter_queue(page: Page, **values: str) -> None:
    """Set the queue's filter form (select by value, or fill) and submit it."""
    form = page.locator("main form.filters")
    for name, value in values.items():
        control = form.locator(f"[name={name}]")
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    submit(form)


def queue_rows(page: Page) -> Locator:
    return page.locator("main table.pairs tbody tr:has(input[name=pair])")


def fill_call_form(page: Page, *, closes_on: str) -> Locator:
    form = page.locator("main form[method=post]:has(input[name=title])")
    form.locator("input[name=title]").fill(CALL_TITLE)
    form.locator("textarea[name=description]").fill(CALL_DESCRIPTION)
    form.locator(f"input[name=fields][value={FIELD}]").check()
    form.locator("input[name=opens_on]").fill(OPENS_ON)
    form.locator("input[name=closes_on]").fill(closes_on)
    for kind in ("university", "public_research_institute", "startup"):
        form.locator(f"input[name=jp_organization_kinds][value={kind}]").check()
    for kind in ("startup", "sme"):
        form.locator(f"input[name=ca_organization_kinds][value={kind}]").check()
    form.locator("input[name=ca_max_staff]").fill("500")
    form.locator("textarea[name=excluded_terms]").fill(EXCLUDED_TERM)
    form.locator("input[name=startup_capacity]").fill(CAPACITY)
    form.locator("input[name=researcher_capacity]").fill(CAPACITY)
    return form


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def number(text: str) -> float:
    return float(text.strip().replace(",", ""))


def test_officer_reviews_pairs_and_runs_a_grant_call(page: Page, live_server: LiveServer) -> None:
    # 1. Log in through the form and land on the officer console.
    log_in(page, live_server)
    expect(page.locator("nav.subnav")).to_be_visible()
    screenshot(page, "officer-01-dashboard")

    # 2. The review queue, filtered to one field and a minimum score.
    officer_nav(page, "/officer/pairs")
    expect(page).to_have_url(re.compile(r"/officer/pairs$"))
    field_label = page.locator(f"form.filters select[name=field] option[value={FIELD}]")
    quantum = field_label.inner_text().strip()
    filter_queue(page, field=FIELD, min_score=str(MIN_SCORE))
    expect(page, "the filter form did not put the field into the URL").to_have_url(
        re.compile(rf"/officer/pairs\?(.*&)?field={FIELD}(&|$)")
    )
    expect(page).to_have_url(re.compile(rf"[?&]min_score={MIN_SCORE}(&|$)"))
    expect(page.locator("form.filters select[name=field]")).to_have_value(FIELD)
    rows = queue_rows(page)
    expect(rows.first, f"no {FIELD} pair scores {MIN_SCORE} or more").to_be_visible()
    for row in rows.all():
        expect(row.locator("td").nth(1)).to_have_text(quantum)
        score = number(row.locator("td").nth(2).inner_text())
        assert score >= MIN_SCORE, f"a pair scoring {score} passed the {MIN_SCORE} filter"
    screenshot(page, "officer-02-queue-quantum")

    # 3. The first pair: both profiles side by side, the shared terms marked in both.
    first_link = rows.first.locator("a[href^='/officer/pairs/']").first
    pair_href = first_link.get_attribute("href") or ""
    pair_ids = PAIR_HREF.match(pair_href)
    assert pair_ids, f"unexpected pair link {pair_href!r}"
    jp_id, ca_id = pair_ids.groups()
    first_link.click()
    expect(page).to_have_url(re.compile(re.escape(pair_href) + "$"))
    cards = page.locator("main .side-by-side section.profile-card")
    expect(cards).to_have_count(2)
    japan, canada = cards.nth(0), cards.nth(1)
    expect(japan).to_be_visible()
    expect(canada).to_be_visible()
    left, right = japan.bounding_box(), canada.bounding_box()
    assert left is not None and right is not None
    assert left["x"] + left["width"] <= right["x"] + 1, "the profiles are not side by side"
    assert abs(left["y"] - right["y"]) < 5, "the profiles do not start at the same height"
    expect(
        japan.locator("mark").first, "no shared term is highlighted in the Japanese profile"
    ).to_be_visible()
    expect(
        canada.locator("mark").first, "no shared term is highlighted in the Canadian profile"
    ).to_be_visible()
    screenshot(page, "officer-03-pair")

    # 4. Approve the pair with a note.
    decision = page.locator("main form[action$='/decide']")
    expect(decision, "the pair page offers no decision form").to_have_count(1)
    decision.locator("select[name=decision]").select_option("approve")
    decision.locator("textarea[name=note]").fill(NOTE)
    submit(decision)
    expect(page, "deciding did not lead back to the pair").to_have_url(
        re.compile(re.escape(pair_href) + "$")
    )
    expect(page.locator("main p.flash")).to_have_text("Decision recorded.")
    expect(page.locator("main span.tag[class*='status-']").first).to_have_class(
        re.compile(r"\bstatus-approved\b")
    )
    expect(page.locator("main span.tag.status-approved")).to_have_text("Approved")
    expect(page.locator("section[aria-labelledby=decisions-heading] ol")).to_contain_text(NOTE)
    screenshot(page, "officer-04-approved")

    page.locator("main a[href='/officer/pairs']").first.click()
    filter_queue(page, status="approved")
    expect(page).to_have_url(re.compile(r"[?&]status=approved(&|$)"))
    approved = queue_rows(page).filter(has=page.locator(f"a[href='{pair_href}']"))
    expect(approved, "the approved pair is missing from the approved view").to_have_count(1)
    expect(approved.locator("span.tag.status-approved")).to_be_visible()

    # 5. A grant call: first with the closing date before the opening date, then right.
    officer_nav(page, "/officer/calls/")
    page.locator("main a[href='/officer/calls/new']").click()
    expect(page).to_have_url(re.compile(r"/officer/calls/new$"))
    form = fill_call_form(page, closes_on="2026-03-01")
    with page.expect_response(
        lambda response: response.request.method == "POST" and "/officer/calls/new" in response.url
    ) as posted:
        submit(form)
    assert posted.value.status == 400, f"an invalid call answered {posted.value.status}"
    expect(page).to_have_url(re.compile(r"/officer/calls/new$"))
    form = page.locator("main form[method=post]:has(input[name=title])")
    closes = form.locator("input[name=closes_on]")
    expect(closes).to_have_attribute("aria-invalid", "true")
    errors = form.locator("#closes_on-errors")
    expect(errors, "no error next to the closing date").to_be_visible()
    expect(errors).to_have_text(re.compile(r"\S"))
    expect(form.locator("div.field.invalid:has(input[name=closes_on])")).to_contain_text(
        errors.inner_text()
    )
    expect(form.locator(".errors"), "errors shown for fields that were right").to_have_count(1)
    # Everything typed is kept.
    expect(closes).to_have_value("2026-03-01")
    expect(form.locator("input[name=title]")).to_have_value(CALL_TITLE)
    expect(form.locator("textarea[name=description]")).to_have_value(CALL_DESCRIPTION)
    expect(form.locator(f"input[name=fields][value={FIELD}]")).to_be_checked()
    expect(form.locator("input[name=opens_on]")).to_have_value(OPENS_ON)
    for kind in ("university", "public_research_institute", "startup"):
        expect(form.locator(f"input[name=jp_organization_kinds][value={kind}]")).to_be_checked()
    expect(form.locator("input[name=jp_organization_kinds][value=sme]")).not_to_be_checked()
    for kind in ("startup", "sme"):
        expect(form.locator(f"input[name=ca_organization_kinds][value={kind}]")).to_be_checked()
    expect(form.locator("input[name=ca_max_staff]")).to_have_value("500")
    expect(form.locator("textarea[name=excluded_terms]")).to_have_value(EXCLUDED_TERM)
    expect(form.locator("input[name=startup_capacity]")).to_have_value(CAPACITY)
    expect(form.locator("input[name=researcher_capacity]")).to_have_value(CAPACITY)
    closes.scroll_into_view_if_needed()
    screenshot(page, "officer-05-call-invalid")

    closes.fill(CLOSES_ON)
    submit(form)
    expect(page, "a valid call did not lead to its page").to_have_url(
        re.compile(r"/officer/calls/\d+$")
    )
    call_path = re.sub(r"^https?://[^/]+", "", page.url)
    expect(page.locator("main h1")).to_have_text(CALL_TITLE)
    expect(page.locator("main p.flash")).to_be_visible()
    facts = page.locator("main dl.facts")
    expect(facts).to_contain_text(quantum)
    expect(facts).to_contain_text(EXCLUDED_TERM)
    expect(facts).to_contain_text("500")
    eligible = page.locator("section[aria-labelledby=pairs-heading] table.pairs tbody tr")
    expect(eligible.first, "the new call has no eligible pair").to_be_visible()
    for cell in eligible.locator("td:nth-child(2)").all():
        expect(cell).to_have_text(quantum)
    screenshot(page, "officer-06-call")

    # The excluded topic makes pairs ineligible, and the full list says why.
    page.locator(f"main a[href='{call_path}?show=all']").click()
    expect(
        page.locator("main ul.reasons li").filter(has_text=EXCLUDED_TERM).first,
        f"no pair is ineligible for mentioning {EXCLUDED_TERM!r}",
    ).to_be_visible()

    # 6. Balanced introductions: the exposure spread before and after, then the release.
    page.locator(f"main a[href='{call_path}/balance']").click()
    expect(page).to_have_url(re.compile(re.escape(call_path) + "/balance$"))
    spread = page.locator("section[aria-labelledby=exposure-heading] table")
    headers = spread.locator("thead th").all_inner_texts()
    assert "Gini" in headers, f"no Gini column in {headers}"
    spread_rows = spread.locator("tbody tr")
    expect(spread_rows, "the spread is not shown before and after").to_have_count(2)
    # Each row: a header cell, then one td per column header.
    table = [
        dict(zip(headers, map(number, row.locator("td").all_inner_texts()), strict=True))
        for row in spread_rows.all()
    ]
    before, after = table
    assert all(0 <= row["Gini"] <= 1 for row in table), f"Gini out of range: {table}"
    assert before["Profiles"] > 0, f"no profile in the spread: {table}"
    assert after["Most"] <= int(CAPACITY), f"a profile got more than {CAPACITY}: {after}"
    chosen = page.locator("section[aria-labelledby=chosen-heading] table.pairs tbody tr")
    expect(chosen.first, "the balance chose no pair").to_be_visible()
    chosen_count = chosen.count()
    screenshot(page, "officer-07-balance")

    release = page.locator(f"main form[action='{call_path}/release']")
    expect(release, "no 'Release as proposals' form").to_have_count(1)
    submit(release)
    expect(page, "releasing did not lead back to the call").to_have_url(
        re.compile(re.escape(call_path) + "$")
    )
    confirmation = page.locator("main p.flash")
    expect(confirmation).to_have_text(re.compile(rf"^{chosen_count} pairs? released"))
    # The last fact of the call is the number of its released proposals.
    expect(page.locator("main dl.facts dd").last).to_have_text(str(chosen_count))
    screenshot(page, "officer-08-released")

    # 7. Downloads: the call's shortlist, then the quantum queue view.
    with page.expect_download() as call_download:
        page.locator(f"main a[href='{call_path}/export.csv']").click()
    assert call_download.value.suggested_filename.endswith(".csv")
    call_rows = read_csv(Path(call_download.value.path()))
    assert len(call_rows) >= 2, f"the call's CSV has no pair: {call_rows}"
    header, body = call_rows[0], call_rows[1:]
    assert all(len(row) == len(header) for row in body), "the call's CSV rows are ragged"
    assert all(row[0] == quantum for row in body), "a pair outside the call's field was exported"

    officer_nav(page, "/officer/pairs")
    filter_queue(page, field=FIELD)
    export = page.locator("main a[href^='/officer/pairs.csv']")
    expect(export).to_have_attribute("href", re.compile(rf"[?&]field={FIELD}(&|$)"))
    with page.expect_download() as queue_download:
        export.click()
    queue_rows_csv = read_csv(Path(queue_download.value.path()))
    assert len(queue_rows_csv) >= 2, f"the queue's CSV has no pair: {queue_rows_csv[:3]}"
    header, body = queue_rows_csv[0], queue_rows_csv[1:]
    assert header[:2] == ["field", "score"], f"unexpected CSV header {header}"
    assert all(row[0] == FIELD for row in body), "the CSV holds pairs of other fields"
    status = header.index("status")
    ids = (header.index("jp_profile_id"), header.index("ca_profile_id"))
    ours = [row for row in body if (row[ids[0]], row[ids[1]]) == (jp_id, ca_id)]
    assert ours and ours[0][status] == "approved", f"the approved pair exported as {ours}"

    # 8. Statistics with their charts.
    officer_nav(page, "/officer/statistics")
    expect(page).to_have_url(re.compile(r"/officer/statistics$"))
    charts = page.locator("main svg[role=img]")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 2, f"{charts.count()} charts on the statistics page"
    for chart in charts.all():
        box = chart.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0
    screenshot(page, "officer-09-statistics")
