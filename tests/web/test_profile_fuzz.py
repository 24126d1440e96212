"""The profile form driven with arbitrary input: never a server error, and a refused
submission changes nothing."""

from __future__ import annotations

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Profile, User
from core.services import demo
from tests.conftest import login
from tests.web.registrants import profile_form

RESEARCHER = demo.DEMO_ACCOUNTS[0].email
FIELDS = [
    "kind",
    "organization_name",
    "organization_kind",
    "staff_count",
    "founded_year",
    "website",
    "region",
    "title",
    "summary",
    "language",
    "keywords",
    "availability",
    "orcid",
]
NASTY = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "'; DROP TABLE profiles; --",
        "9" * 400,
        "-1",
        "1e309",
        "\x00",
        "\u202e",
        "ＪＰ－１３",
        "",
        " ",
        "x" * 6000,
    ]
)
VALUES = st.one_of(st.text(max_size=300), NASTY)


def _snapshot(session: Session) -> tuple[str, str, str, list[str]]:
    session.expire_all()
    profile = session.scalar(select(Profile).join(User).where(User.email == RESEARCHER))
    assert profile is not None
    return profile.title, profile.summary, profile.region, list(profile.keywords)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(changes=st.dictionaries(st.sampled_from(FIELDS), VALUES, min_size=1, max_size=5))
def test_arbitrary_profile_input_is_refused_cleanly_or_saved_escaped(
    client: FlaskClient, session: Session, changes: dict[str, str]
) -> None:
    if client.get("/account/").status_code != 200:  # once: logins are rate-limited
        login(client, RESEARCHER)
    before = _snapshot(session)
    form = profile_form(region="JP-13") | changes
    response = client.post("/profile/edit", data=form)
    assert response.status_code in (200, 302, 400), response.status_code
    page = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    if response.status_code == 400:
        assert _snapshot(session) == before
    else:
        shown = client.get("/profile/").get_data(as_text=True)
        assert "<script>alert(1)</script>" not in shown
