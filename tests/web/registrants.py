"""Helpers for driving the registrant pages through the Flask test client."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

from core.config import Settings
from core.mail import read_folder

PASSWORD = "kiwi-orbit-harbour-27"
QUANTUM_SUMMARY = (
    "We build superconducting qubit control electronics with cryogenic CMOS and "
    "error-corrected quantum processors, and want a partner for qubit readout."
)


def newest_mail_to(settings: Settings, address: str) -> tuple[str, str]:
    """(subject, body) of the newest message in the mail folder for ``address``."""
    for message in read_folder(settings.mail_path, limit=10_000):
        if message.to == address:
            return message.subject, message.body
    raise AssertionError(f"no mail to {address} in {settings.mail_path}")


def link_in(body: str, path: str) -> str:
    """The path and query of the first link to ``path`` in a message body."""
    found = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"[^\s]*)", body)
    assert found, f"no {path} link in: {body}"
    return found.group(1)


def register(
    client: FlaskClient, email: str, *, name: str = "Test Person", locale: str = "en"
) -> None:
    response = client.post(
        "/register",
        data={
            "display_name": name,
            "email": email,
            "password": PASSWORD,
            "confirm": PASSWORD,
            "locale": locale,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def verify(client: FlaskClient, settings: Settings, email: str) -> None:
    _, body = newest_mail_to(settings, email)
    response = client.get(link_in(body, "/verify/"))
    assert response.status_code == 302, response.get_data(as_text=True)


def profile_form(**overrides: object) -> dict[str, object]:
    form: dict[str, object] = {
        "kind": "researcher",
        "organization_name": "Test University",
        "organization_kind": "university",
        "staff_count": "1200",
        "founded_year": "1950",
        "website": "https://www.example.org",
        "region": "JP-13",
        "fields": ["quantum"],
        "title": "Superconducting qubit control",
        "summary": QUANTUM_SUMMARY,
        "language": "",
        "keywords": "qubit, cryogenic CMOS",
        "seeking": ["startup"],
        "collaboration_types": ["joint_rd", "facility_use"],
        "availability": "open",
        "orcid": "",
    }
    form.update(overrides)
    return form


def onboard(
    client: FlaskClient, settings: Settings, email: str, *, consent: bool = True, **profile: object
) -> None:
    """Register, verify, write the profile and (by default) consent."""
    register(client, email)
    verify(client, settings, email)
    response = client.post("/profile/edit", data=profile_form(**profile))
    assert response.status_code == 302, response.get_data(as_text=True)
    if consent:
        response = client.post("/profile/consent", data={})
        assert response.status_code == 302, response.get_data(as_text=True)


def mail_folder(settings: Settings) -> Path:
    return settings.mail_path
