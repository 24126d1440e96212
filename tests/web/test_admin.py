"""Administration of accounts and roles: only admins, every change audited."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import Settings
from core.models import AuditEvent, Role, User
from core.services import demo
from tests.conftest import login
from tests.factories import make_user
from tests.web.registrants import link_in, newest_mail_to

ADMIN_PASSWORD = "harbour-kite-2026"
RESEARCHER, _, OFFICER = (a.email for a in demo.DEMO_ACCOUNTS)


@pytest.fixture
def admin(session: Session) -> User:
    return make_user(
        session,
        email="admin@tests.example",
        password=ADMIN_PASSWORD,
        role=Role.ADMIN,
        verified=True,
    )


def test_an_admin_creates_an_officer_who_sets_a_password_and_gets_in(
    app: Flask, admin: User, session: Session, settings: Settings
) -> None:
    client = app.test_client()
    login(client, admin.email, ADMIN_PASSWORD)
    response = client.post(
        "/admin/users/new",
        data={"email": "new-officer@tests.example", "display_name": "Nao Sato", "role": "officer"},
    )
    assert response.status_code == 302
    officer = session.scalar(select(User).where(User.email == "new-officer@tests.example"))
    assert officer is not None and officer.role == Role.OFFICER
    _, body = newest_mail_to(settings, "new-officer@tests.example")
    link = link_in(body, "/reset/")
    newcomer = app.test_client()
    chosen = "harbour-lantern-88"
    response = newcomer.post(link, data={"new_password": chosen, "confirm": chosen})
    assert response.status_code == 302
    login(newcomer, "new-officer@tests.example", chosen)
    assert newcomer.get("/officer/").status_code == 200


def test_role_changes_are_audited_and_never_ones_own(
    client: FlaskClient, admin: User, session: Session
) -> None:
    login(client, admin.email, ADMIN_PASSWORD)
    researcher = session.scalar(select(User).where(User.email == RESEARCHER))
    assert researcher is not None
    client.post(f"/admin/users/{researcher.id}/role", data={"role": "officer"})
    session.refresh(researcher)
    assert researcher.role == Role.OFFICER
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "role.changed"))
    assert event is not None and event.actor_id == admin.id
    assert event.details == {"previous": "registrant", "new": "officer"}
    client.post(f"/admin/users/{admin.id}/role", data={"role": "registrant"})
    session.refresh(admin)
    assert admin.role == Role.ADMIN


@pytest.mark.parametrize("who", [RESEARCHER, OFFICER])
def test_only_admins_reach_the_admin_pages(app: Flask, who: str, session: Session) -> None:
    client = app.test_client()
    login(client, who)
    assert client.get("/admin/users").status_code == 403
    assert client.post("/admin/users/1/role", data={"role": "admin"}).status_code == 403
    anonymous = app.test_client()
    assert anonymous.get("/admin/users").status_code == 302
