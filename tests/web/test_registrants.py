"""A registrant's whole journey through the Flask test client: register, verify, profile,
consent, proposals, mutual interest, introduction, privacy rights; and what must fail."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.config import Settings
from core.models import (
    AuditEvent,
    ConsentEvent,
    Interest,
    InterestState,
    Introduction,
    Match,
    Profile,
    RematchRequest,
    RequestStatus,
    User,
)
from core.services import demo, matching
from tests.conftest import login
from tests.web.registrants import (
    PASSWORD,
    QUANTUM_SUMMARY,
    link_in,
    newest_mail_to,
    onboard,
    profile_form,
    register,
    verify,
)

RESEARCHER = demo.DEMO_ACCOUNTS[0].email


def _user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email))
    assert user is not None
    return user


def _profile(session: Session, email: str) -> Profile:
    profile = session.scalar(select(Profile).join(User).where(User.email == email))
    assert profile is not None
    return profile


def test_password_rules_are_shown_before_typing(client: FlaskClient) -> None:
    page = client.get("/register").get_data(as_text=True)
    assert "At least 10 characters" in page


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "Use at least 10 characters."),
        ("aaaaaaaaaaaa", "Use at least 5 different characters."),
        ("1234567890", "too common"),
    ],
)
def test_weak_passwords_are_refused_and_the_form_is_kept(
    client: FlaskClient, password: str, message: str
) -> None:
    response = client.post(
        "/register",
        data={
            "display_name": "Aiko Tanaka",
            "email": "weak@tests.example",
            "password": password,
            "confirm": password,
            "locale": "ja",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert 'value="Aiko Tanaka"' in page and 'value="weak@tests.example"' in page


def test_registering_twice_with_one_address_is_refused(client: FlaskClient) -> None:
    register(client, "twice@tests.example")
    client.post("/logout")
    response = client.post(
        "/register",
        data={
            "display_name": "Someone",
            "email": "TWICE@tests.example",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "locale": "en",
        },
    )
    assert response.status_code == 409


def test_verification_link_confirms_the_address(
    client: FlaskClient, session: Session, settings: Settings
) -> None:
    register(client, "verify-me@tests.example")
    assert _user(session, "verify-me@tests.example").email_verified_at is None
    subject, body = newest_mail_to(settings, "verify-me@tests.example")
    assert subject == "Confirm your email address"
    client.get(link_in(body, "/verify/"))
    assert _user(session, "verify-me@tests.example").email_verified_at is not None


def test_verification_email_is_in_the_chosen_language(
    client: FlaskClient, settings: Settings
) -> None:
    register(client, "nihongo@tests.example", locale="ja")
    subject, body = newest_mail_to(settings, "nihongo@tests.example")
    assert subject == "メールアドレスの確認"
    assert "/verify/" in body


def test_a_tampered_verification_link_is_refused(client: FlaskClient, settings: Settings) -> None:
    register(client, "tamper@tests.example")
    _, body = newest_mail_to(settings, "tamper@tests.example")
    link = link_in(body, "/verify/")
    response = client.get(link[:-3] + "abc")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_the_local_outbox_shows_the_message_with_a_clickable_link(
    client: FlaskClient, settings: Settings
) -> None:
    register(client, "outbox@tests.example")
    listing = client.get("/outbox/").get_data(as_text=True)
    assert "outbox@tests.example" in listing
    name = next(
        m
        for m in __import__("core.mail").mail.read_folder(settings.mail_path)
        if m.to == "outbox@tests.example"
    ).name
    page = client.get(f"/outbox/{name}").get_data(as_text=True)
    assert '<a href="http' in page and "/verify/" in page


def test_the_local_outbox_is_not_served_to_other_machines(client: FlaskClient) -> None:
    response = client.get("/outbox/", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 404


def test_profile_form_reports_each_bad_field_and_keeps_the_input(
    client: FlaskClient, settings: Settings
) -> None:
    register(client, "badform@tests.example")
    response = client.post(
        "/profile/edit",
        data=profile_form(
            region="XX-99",
            fields=[],
            orcid="0000-0002-1825-0098",
            staff_count="lots",
            website="example.org",
            summary="x" * 5001,
            title="Keep this title",
        ),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'value="Keep this title"' in page
    assert "Not a valid choice" in page  # region outside the list
    assert "Not a valid integer value" in page
    assert "Field must be between" in page or "5000" in page


def test_orcid_is_checked_by_the_service(client: FlaskClient, settings: Settings) -> None:
    register(client, "orcid@tests.example")
    response = client.post("/profile/edit", data=profile_form(orcid="0000-0002-1825-0098"))
    assert response.status_code == 400
    assert "not a valid ORCID iD" in response.get_data(as_text=True)
    response = client.post(
        "/profile/edit", data=profile_form(orcid="https://orcid.org/0000-0002-1825-0097")
    )
    assert response.status_code == 302


def test_a_profile_is_matched_only_after_consent(
    client: FlaskClient, session: Session, settings: Settings
) -> None:
    onboard(client, settings, "consent@tests.example", consent=False)
    profile = _profile(session, "consent@tests.example")
    assert profile.consent_at is None
    live = matching.live_run(session)
    assert live is not None
    pairs = (
        select(func.count())
        .select_from(Match)
        .where(Match.run_id == live.id, Match.jp_profile_id == profile.id)
    )
    assert session.scalar(pairs) == 0
    # The matches page sends them to the consent step.
    response = client.get("/matches/")
    assert response.status_code == 302 and "/profile/consent" in response.headers["Location"]
    notice = client.get("/profile/consent").get_data(as_text=True)
    assert "PIPEDA" in notice and "APPI" in notice
    client.post("/profile/consent", data={})
    session.expire_all()
    assert _profile(session, "consent@tests.example").consent_at is not None
    assert (session.scalar(pairs) or 0) > 0
    events = session.scalars(select(ConsentEvent).where(ConsentEvent.profile_id == profile.id))
    assert [e.action.value for e in events] == ["given"]


def test_consent_needs_a_verified_address(client: FlaskClient, settings: Settings) -> None:
    register(client, "unverified@tests.example")
    client.post("/profile/edit", data=profile_form())
    page = client.get("/profile/consent").get_data(as_text=True)
    assert "First confirm your email address" in page
    assert "I agree" not in page


def test_withdrawing_consent_removes_the_profile_from_matching(
    client: FlaskClient, session: Session, settings: Settings
) -> None:
    onboard(client, settings, "withdraw@tests.example")
    profile = _profile(session, "withdraw@tests.example")
    live = matching.live_run(session)
    assert live is not None
    pairs = (
        select(func.count())
        .select_from(Match)
        .where(Match.run_id == live.id, Match.jp_profile_id == profile.id)
    )
    assert (session.scalar(pairs) or 0) > 0
    client.post("/profile/consent/withdraw", data={})
    session.expire_all()
    assert session.scalar(pairs) == 0
    assert _profile(session, "withdraw@tests.example").consent_at is None


def test_mutual_interest_makes_an_introduction_and_emails_both(
    app: Flask, session: Session, settings: Settings
) -> None:
    japanese, canadian = app.test_client(), app.test_client()
    onboard(japanese, settings, "jp-intro@tests.example")
    onboard(
        canadian,
        settings,
        "ca-intro@tests.example",
        region="CA-QC",
        kind="startup",
        organization_kind="startup",
        organization_name="Qubit Startup Inc.",
        title="Cryogenic CMOS qubit readout",
    )
    jp_profile = _profile(session, "jp-intro@tests.example")
    ca_profile = _profile(session, "ca-intro@tests.example")
    page = japanese.get("/matches/").get_data(as_text=True)
    assert f'id="partner-{ca_profile.id}"' in page
    # Staged disclosure: no name, organization or address before the introduction.
    assert "Qubit Startup Inc." not in page and "ca-intro@tests.example" not in page

    japanese.post(f"/matches/{ca_profile.id}/answer", data={"state": "interested"})
    assert session.scalar(select(func.count()).select_from(Introduction)) == 0
    response = canadian.post(f"/matches/{jp_profile.id}/answer", data={"state": "interested"})
    assert response.status_code == 302
    introduction = session.scalar(select(Introduction))
    assert introduction is not None
    assert (introduction.jp_profile_id, introduction.ca_profile_id) == (
        jp_profile.id,
        ca_profile.id,
    )

    page = japanese.get("/matches/").get_data(as_text=True)
    assert "Qubit Startup Inc." in page and "ca-intro@tests.example" in page
    subject, body = newest_mail_to(settings, "jp-intro@tests.example")
    assert subject.startswith("Introduction:") and "ca-intro@tests.example" in body
    _, body = newest_mail_to(settings, "ca-intro@tests.example")
    assert "jp-intro@tests.example" in body and "Test University" in body


def test_not_now_keeps_the_reason(
    client: FlaskClient, session: Session, settings: Settings
) -> None:
    onboard(client, settings, "notnow@tests.example")
    profile = _profile(session, "notnow@tests.example")
    partner = matching.matches_for_profile(session, profile)[0].ca_profile_id
    client.post(
        f"/matches/{partner}/answer",
        data={"state": "not_now", "reason_code": "no_capacity", "reason_text": "Busy until June"},
    )
    answer = session.scalar(select(Interest).where(Interest.profile_id == profile.id))
    assert answer is not None
    assert (answer.state, answer.reason_code, answer.reason_text) == (
        InterestState.NOT_NOW,
        answer.reason_code.__class__("no_capacity"),
        "Busy until June",
    )


def test_nobody_can_answer_for_a_profile_not_proposed_to_them(
    client: FlaskClient, session: Session, settings: Settings
) -> None:
    onboard(client, settings, "idor@tests.example")
    profile = _profile(session, "idor@tests.example")
    proposed = {m.ca_profile_id for m in matching.matches_for_profile(session, profile)}
    stranger = session.scalar(
        select(Profile.id).where(Profile.country == "CA", Profile.id.not_in(proposed)).limit(1)
    )
    assert stranger is not None
    response = client.post(f"/matches/{stranger}/answer", data={"state": "interested"})
    assert response.status_code == 404
    assert session.scalar(select(func.count()).select_from(Interest)) == 0


def test_answers_without_a_csrf_token_are_refused(app: Flask, settings: Settings) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post("/register", data={"email": "csrf@tests.example"})
    assert response.status_code == 400
    response = client.post("/matches/1/answer", data={"state": "interested"})
    assert response.status_code in (400, 302)  # refused, or sent to log in first


def test_filters_narrow_the_proposals(client: FlaskClient, session: Session) -> None:
    login(client, RESEARCHER)
    profile = _profile(session, RESEARCHER)
    everything = matching.matches_for_profile(session, profile)
    region = everything[0].ca_profile.region
    page = client.get(f"/matches/?region={region}").get_data(as_text=True)
    shown = {m.ca_profile_id for m in everything if f'id="partner-{m.ca_profile_id}"' in page}
    assert shown == {m.ca_profile_id for m in everything if m.ca_profile.region == region}


def test_only_new_shows_nothing_right_after_a_visit(client: FlaskClient) -> None:
    login(client, RESEARCHER)
    first = client.get("/matches/").get_data(as_text=True)
    assert 'class="proposal"' in first
    again = client.get("/matches/?new=1").get_data(as_text=True)
    assert 'class="proposal"' not in again


def test_download_my_data_contains_profile_consents_and_answers(
    client: FlaskClient, session: Session, settings: Settings
) -> None:
    onboard(client, settings, "export@tests.example")
    response = client.get("/account/export")
    data = json.loads(response.get_data(as_text=True))
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert data["account"]["email"] == "export@tests.example"
    assert data["profiles"][0]["summary"] == QUANTUM_SUMMARY
    assert [c["action"] for c in data["consents"]] == ["given"]


def test_deleting_the_account_erases_it_and_leaves_a_pseudonymous_trace(
    client: FlaskClient, session: Session, settings: Settings
) -> None:
    onboard(client, settings, "erase@tests.example")
    user_id = _user(session, "erase@tests.example").id
    profile_id = _profile(session, "erase@tests.example").id
    refused = client.post("/account/delete", data={"delete-password": "not my password"})
    assert refused.status_code == 400
    response = client.post("/account/delete", data={"delete-password": PASSWORD})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(User, user_id) is None
    assert session.get(Profile, profile_id) is None
    assert (
        session.scalar(
            select(func.count())
            .select_from(Match)
            .where((Match.jp_profile_id == profile_id) | (Match.ca_profile_id == profile_id))
        )
        == 0
    )
    assert (
        session.scalar(
            select(func.count())
            .select_from(RematchRequest)
            .where(
                RematchRequest.profile_id == profile_id,
                RematchRequest.status != RequestStatus.DONE,
            )
        )
        == 0
    )
    deleted = session.scalar(select(AuditEvent).where(AuditEvent.action == "account.deleted"))
    assert deleted is not None and deleted.subject_id == str(user_id)
    assert "erase@tests.example" not in json.dumps(deleted.details)
    assert client.get("/matches/").status_code == 302  # logged out


def test_password_reset_works_once(client: FlaskClient, settings: Settings) -> None:
    register(client, "reset@tests.example")
    client.post("/logout")
    client.post("/reset", data={"email": "reset@tests.example"})
    _, body = newest_mail_to(settings, "reset@tests.example")
    link = link_in(body, "/reset/")
    new_password = "lantern-meadow-93"
    response = client.post(link, data={"new_password": new_password, "confirm": new_password})
    assert response.status_code == 302
    login(client, "reset@tests.example", new_password)
    client.post("/logout")
    again = client.post(
        link, data={"new_password": "another-one-77x", "confirm": "another-one-77x"}
    )
    assert again.status_code == 400


def test_reset_does_not_reveal_whether_an_account_exists(client: FlaskClient) -> None:
    known = client.post("/reset", data={"email": RESEARCHER}, follow_redirects=True)
    unknown = client.post("/reset", data={"email": "nobody@tests.example"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    message = "If an account uses this address"
    assert message in known.get_data(as_text=True) and message in unknown.get_data(as_text=True)


def test_changing_email_takes_effect_when_the_new_address_confirms(
    client: FlaskClient, session: Session, settings: Settings
) -> None:
    register(client, "old-address@tests.example")
    verify(client, settings, "old-address@tests.example")
    client.post(
        "/account/email",
        data={"email-new_email": "new-address@tests.example", "email-password": PASSWORD},
    )
    assert _user(session, "old-address@tests.example")
    _, body = newest_mail_to(settings, "new-address@tests.example")
    client.get(link_in(body, "/verify/"))
    session.expire_all()
    assert session.scalar(select(User).where(User.email == "new-address@tests.example"))


def test_one_click_unsubscribe(client: FlaskClient, session: Session, settings: Settings) -> None:
    from core.links import UNSUBSCRIBE, Links

    user = _user(session, RESEARCHER)
    url = Links(settings.base_url, settings.secret_key).url(UNSUBSCRIBE, {"u": user.id})
    path = url.removeprefix(settings.base_url)
    assert client.get(path).status_code == 200
    assert user.digest_frequency.value == "weekly"  # a GET (link scanners) changes nothing
    assert client.post(path).status_code == 200  # no session, no CSRF token: RFC 8058
    session.expire_all()
    assert _user(session, RESEARCHER).digest_frequency.value == "never"


def test_signed_links_point_at_real_routes(app: Flask) -> None:
    from core.links import ACCOUNT_PATH, MATCHES_PATH, PATHS

    rules = {rule.rule for rule in app.url_map.iter_rules()}
    for path in PATHS.values():
        if path == "/claim/":
            continue  # profiles imported by officers arrive with the officer console
        assert f"{path}<token>" in rules
    assert MATCHES_PATH in rules and ACCOUNT_PATH in rules
