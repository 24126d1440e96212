"""A new registrant's whole journey, in a real browser and through the pages only.

A Japanese researcher and a Canadian startup founder each register, confirm their address
with the link from the local outbox, write a profile, agree to share it and find each other
among their proposals; both say they are interested and are introduced by email.

Elements are found by their form names, values and link targets rather than by their
labels, so that the test holds while the translations change.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import LiveServer, NewPage, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "kiwi-orbit-harbour-27"  # 10+ characters, 5+ different, not common


@dataclass(frozen=True)
class Registrant:
    name: str
    email: str
    locale: str  # the account's language: en, ja or fr
    kind: str  # researcher or startup
    organization: str
    organization_kind: str
    region: str
    region_label: str  # as the region list shows it in the registrant's language
    title: str
    summary: str
    language: str  # of the summary
    keywords: str
    seeking: tuple[str, ...]
    collaboration_types: tuple[str, ...]


RUN = uuid.uuid4().hex[:8]  # addresses stay unique if the session server is reused

JAPANESE = Registrant(
    name="田中 愛子",
    email=f"aiko.tanaka.{RUN}@journey.example",
    locale="ja",
    kind="researcher",
    organization="東都大学 量子エレクトロニクス研究室",
    organization_kind="university",
    region="JP-13",
    region_label="東京都",
    title="超伝導量子ビットの制御エレクトロニクスと極低温CMOSによる量子ビット読み出し",
    summary=(
        "私たちは超伝導量子ビットの制御エレクトロニクスを研究しています。"
        "極低温CMOSによる量子ビット制御システムを設計し、希釈冷凍機の中で動作させています。"
        "量子ビット読み出しと分散読み出しの回路を極低温エレクトロニクスとして集積し、"
        "配線の数と発熱を減らしています。"
        "超伝導量子コンピュータの大規模化に向けて、極低温CMOSの量子ビット制御エレクトロニクスと"
        "量子ビット測定を製品化するカナダのスタートアップとの共同研究開発を希望します。"
    ),
    language="ja",
    keywords="超伝導量子ビット, 極低温CMOS, 量子ビット読み出し, 量子ビット制御エレクトロニクス",
    seeking=("startup", "researcher"),
    collaboration_types=("joint_rd", "facility_use"),
)

CANADIAN = Registrant(
    name="Camille Tremblay",
    email=f"camille.tremblay.{RUN}@journey.example",
    locale="en",
    kind="startup",
    organization="CryoQubit Systems Inc.",
    organization_kind="startup",
    region="CA-QC",
    region_label="Quebec",
    title="Cryogenic CMOS qubit readout and control electronics",
    summary=(
        "Our startup builds cryogenic CMOS qubit control electronics for superconducting "
        "qubits. Our cryo-CMOS qubit control system runs inside the dilution refrigerator "
        "next to the superconducting quantum computer, and our chips perform qubit readout "
        "and dispersive readout with cryogenic electronics, cutting wiring and heat. "
        "We are looking for a Japanese research group working on superconducting qubit "
        "control electronics and qubit measurement for joint research and development."
    ),
    language="en",
    keywords="cryogenic CMOS, qubit readout, superconducting qubit, qubit control electronics",
    seeking=("researcher",),
    collaboration_types=("joint_rd", "facility_use"),
)


def submit(form: Locator) -> None:
    form.locator("button[type=submit]").first.click()


def register(page: Page, person: Registrant, shot: str) -> None:
    """Fill and send the form on /register; land on the page asking to confirm the address."""
    expect(page).to_have_url(re.compile(r"/register$"))
    form = page.locator("main form")
    # The password rules are shown next to the field before anyone types.
    expect(form.locator("#password-hint")).to_contain_text("10")
    form.locator("input[name=display_name]").fill(person.name)
    form.locator("input[name=email]").fill(person.email)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("input[name=confirm]").fill(PASSWORD)
    form.locator("select[name=locale]").select_option(person.locale)
    screenshot(page, f"{shot}-register")
    submit(form)
    expect(page, "registering did not lead to the confirm-your-email page").to_have_url(
        re.compile(r"/verify$")
    )
    expect(page.locator("main")).to_contain_text(person.email)


def open_newest_mail(page: Page, address: str) -> Locator:
    """Open the local outbox from the navigation, then the newest message to ``address``;
    return the message text."""
    page.locator("header nav a[href='/outbox/']").click()
    expect(page).to_have_url(re.compile(r"/outbox/$"))
    rows = page.locator("main tbody tr").filter(
        has=page.get_by_role("cell", name=address, exact=True)
    )
    expect(rows.first, f"no message to {address} in the local outbox").to_be_visible()
    rows.first.get_by_role("link").click()  # newest first
    expect(page).to_have_url(re.compile(r"/outbox/\d{8}$"))
    expect(page.locator("main dl.facts")).to_contain_text(address)
    return page.locator("main pre.mail")


def verify(page: Page, person: Registrant, shot: str) -> None:
    """Click the link of the verification message; come back confirmed."""
    body = open_newest_mail(page, person.email)
    link = body.locator("a[href*='/verify/']").first
    expect(link, "the verification message has no clickable /verify/ link").to_be_visible()
    screenshot(page, f"{shot}-verification-mail")
    link.click()
    expect(page, "the verification link did not lead to the profile").to_have_url(
        re.compile(r"/profile/$")
    )
    expect(page.locator("main p.flash")).to_be_visible()  # "Your email address is confirmed."
    # The reminder to confirm the address is gone.
    expect(page.locator("main p.notice a[href='/verify']")).to_have_count(0)


def write_profile(page: Page, person: Registrant, shot: str) -> None:
    """From the profile page, open the form, fill every part of it and save."""
    page.locator("main a[href='/profile/edit']").click()
    expect(page).to_have_url(re.compile(r"/profile/edit$"))
    form = page.locator("main form")
    form.locator(f"input[name=kind][value={person.kind}]").check()
    form.locator("input[name=organization_name]").fill(person.organization)
    form.locator("select[name=organization_kind]").select_option(person.organization_kind)
    region = form.locator("select[name=region]")
    region.select_option(person.region)
    expect(region.locator("option:checked")).to_have_text(person.region_label)
    form.locator("input[name=fields][value=quantum]").check()
    form.locator("input[name=title]").fill(person.title)
    form.locator("textarea[name=summary]").fill(person.summary)
    form.locator("select[name=language]").select_option(person.language)
    form.locator("input[name=keywords]").fill(person.keywords)
    for kind in person.seeking:
        form.locator(f"input[name=seeking][value={kind}]").check()
    for collaboration in person.collaboration_types:
        form.locator(f"input[name=collaboration_types][value={collaboration}]").check()
    screenshot(page, f"{shot}-profile-form")
    with page.expect_response(
        lambda response: response.request.method == "POST" and "/profile/edit" in response.url
    ) as posted:
        submit(form)
    if posted.value.status != 302:
        page.wait_for_load_state()
        errors = page.locator("main .errors").all_inner_texts()
        pytest.fail(f"POST /profile/edit answered {posted.value.status}; errors: {errors}")
    expect(page, "saving a new profile did not lead to the consent step").to_have_url(
        re.compile(r"/profile/consent$")
    )


def consent(page: Page, person: Registrant, shot: str) -> None:
    """Read the notice, agree to share the profile; land on My matches with a proposal."""
    # The notice names the law of the country the profile is transferred to.
    foreign_law = "PIPEDA" if person.region.startswith("JP-") else "APPI"
    expect(page.locator("main .notice-text")).to_contain_text(foreign_law)
    screenshot(page, f"{shot}-consent")
    agree = page.locator("main form[method=post] button[type=submit]")
    expect(agree, "the consent page has no 'I agree' button").to_have_count(1)
    agree.click()
    expect(page, "agreeing did not lead to My matches").to_have_url(re.compile(r"/matches/$"))
    expect(page.locator("li.proposal").first, "no proposal after consenting").to_be_visible()


def proposal_titled(page: Page, title: str) -> Locator:
    return page.locator("li.proposal").filter(
        has=page.locator("h3", has_text=re.compile("^" + re.escape(title)))
    )


def say_interested(page: Page, proposal: Locator) -> None:
    """Press the proposal's "Interested" button, found by its form rather than its label."""
    form = proposal.locator("form:has(input[name=state][value=interested])")
    expect(form).to_have_count(1)
    expect(form).to_have_attribute("action", re.compile(r"^/matches/\d+/answer$"))
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/matches/#partner-\d+$"))


def test_two_registrants_find_each_other_and_are_introduced(
    new_page: NewPage, live_server: LiveServer
) -> None:
    # 1. A Japanese researcher opens the site in Japanese and registers.
    jp = new_page(locale="ja-JP")
    jp.goto(live_server.url + "/")
    expect(jp.locator("html")).to_have_attribute("lang", "ja")
    screenshot(jp, "journey-01-home-ja")
    jp.locator("main a[href='/register']").click()
    register(jp, JAPANESE, "journey-02")
    expect(jp.locator("html")).to_have_attribute("lang", "ja")
    screenshot(jp, "journey-03-verify-pending-ja")

    # 2. The verification link from the local outbox confirms the address.
    verify(jp, JAPANESE, "journey-04")
    expect(jp.locator("html")).to_have_attribute("lang", "ja")

    # 3. The profile, written in Japanese, and the consent to share it.
    write_profile(jp, JAPANESE, "journey-05")
    expect(jp.locator("html")).to_have_attribute("lang", "ja")
    consent(jp, JAPANESE, "journey-06")
    screenshot(jp, "journey-07-matches-ja")

    # 4. A Canadian startup founder, in English, does the same in another browser.
    ca = new_page(locale="en-CA")
    ca.goto(live_server.url + "/")
    expect(ca.locator("html")).to_have_attribute("lang", "en")
    ca.locator("header nav a[href='/register']").click()
    register(ca, CANADIAN, "journey-08")
    verify(ca, CANADIAN, "journey-09")
    write_profile(ca, CANADIAN, "journey-10")
    consent(ca, CANADIAN, "journey-11")
    expect(ca.locator("html")).to_have_attribute("lang", "en")

    japanese_proposal = proposal_titled(ca, JAPANESE.title)
    expect(
        japanese_proposal.first,
        "the Japanese researcher's profile is not among the Canadian's proposals",
    ).to_be_visible()
    # Staged disclosure: no name, organization or address before an introduction.
    for hidden in (JAPANESE.name, JAPANESE.organization, JAPANESE.email):
        expect(ca.locator("main")).not_to_contain_text(hidden)
    japanese_proposal.first.scroll_into_view_if_needed()
    screenshot(ca, "journey-12-matches-en")
    say_interested(ca, japanese_proposal.first)
    expect(ca.locator("main p.flash")).to_contain_text("If they are interested too")
    expect(ca.locator("section.introductions")).to_have_count(0)

    # 5. The Japanese researcher finds the Canadian and says yes too: they are introduced.
    jp.reload()
    expect(jp).to_have_url(re.compile(r"/matches/$"))
    canadian_proposal = proposal_titled(jp, CANADIAN.title)
    expect(
        canadian_proposal.first,
        "the Canadian startup's profile is not among the Japanese researcher's proposals",
    ).to_be_visible()
    expect(canadian_proposal.first.locator("h3")).to_have_attribute("lang", "en")
    for hidden in (CANADIAN.name, CANADIAN.organization, CANADIAN.email):
        expect(jp.locator("main")).not_to_contain_text(hidden)
    say_interested(jp, canadian_proposal.first)
    expect(jp.locator("html")).to_have_attribute("lang", "ja")

    introductions = jp.locator("section.introductions")
    expect(introductions, "no introduction after both said they are interested").to_be_visible()
    introduced = introductions.locator("li.introduced").filter(
        has=jp.locator("h3", has_text=CANADIAN.title)
    )
    expect(introduced).to_have_count(1)
    facts = introduced.locator("dl.facts")
    expect(
        facts, "the introduction waits for an officer instead of showing contacts"
    ).to_be_visible()
    expect(facts).to_contain_text(CANADIAN.name)
    expect(facts).to_contain_text(CANADIAN.organization)
    expect(facts.locator(f"a[href='mailto:{CANADIAN.email}']")).to_have_text(CANADIAN.email)
    # The proposal now points up to the introduction instead of offering answers.
    expect(canadian_proposal.first.locator("form")).to_have_count(0)
    screenshot(jp, "journey-13-introduction-ja")

    ca.reload()
    introduced_ca = ca.locator("section.introductions li.introduced").filter(
        has=ca.locator("h3", has_text=JAPANESE.title)
    )
    expect(introduced_ca.locator("dl.facts")).to_contain_text(JAPANESE.name)
    expect(introduced_ca.locator("dl.facts")).to_contain_text(JAPANESE.organization)
    expect(introduced_ca.locator("dl.facts")).to_contain_text(JAPANESE.email)
    screenshot(ca, "journey-14-introduction-en")

    # Both received the introduction by email, each with the other's address.
    body = open_newest_mail(jp, JAPANESE.email)
    expect(body, "the Japanese researcher got no introduction email").to_contain_text(
        CANADIAN.email
    )
    expect(body).to_contain_text(CANADIAN.organization)
    screenshot(jp, "journey-15-introduction-mail-ja")
    body = open_newest_mail(ca, CANADIAN.email)
    expect(body, "the Canadian founder got no introduction email").to_contain_text(JAPANESE.email)
    expect(body).to_contain_text(JAPANESE.organization)
    expect(ca.locator("main h1")).to_have_text(re.compile(r"^Introduction"))

    # 6. The language switcher changes the pages to French, and the choice stays.
    jp.locator("header nav a[href='/matches/']").click()
    jp.locator("nav.languages a[lang=fr]").click()
    expect(jp.locator("html")).to_have_attribute("lang", "fr")
    expect(jp.locator("section.introductions")).to_contain_text(CANADIAN.email)
    screenshot(jp, "journey-16-matches-fr")
    jp.locator("header nav a[href='/profile/']").click()
    expect(jp.locator("html")).to_have_attribute("lang", "fr")
