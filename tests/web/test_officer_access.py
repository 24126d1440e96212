"""Every officer URL, tried by every kind of visitor: anonymous visitors are sent to log
in, registrants get 403, officers get in."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter

from core.services import demo
from tests.conftest import login

RESEARCHER, FOUNDER, OFFICER = (a.email for a in demo.DEMO_ACCOUNTS)


def officer_urls(app: Flask) -> list[tuple[str, str]]:
    """(method, url) of every route under /officer, with 1 for each id."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/officer"):
            continue
        converters = rule._converters
        values = {
            name: 1 if isinstance(converters.get(name), IntegerConverter) else "quantum"
            for name in rule.arguments
        }
        url = rule.build(values, append_unknown=False)
        assert url is not None
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, url[1]))
    return found


def test_every_officer_route_is_listed(app: Flask) -> None:
    urls = officer_urls(app)
    assert ("GET", "/officer/") in urls and ("GET", "/officer/pairs") in urls
    assert len(urls) >= 10


@pytest.mark.parametrize("who", ["anonymous", RESEARCHER, FOUNDER])
def test_nobody_but_officers_reaches_an_officer_url(app: Flask, who: str) -> None:
    client: FlaskClient = app.test_client()
    if who != "anonymous":
        login(client, who)
    for method, url in officer_urls(app):
        response = client.open(url, method=method)
        if who == "anonymous":
            assert response.status_code == 302, (method, url)
            assert "/login" in response.headers["Location"], (method, url)
        else:
            assert response.status_code == 403, (method, url)


def test_officers_get_every_page_without_a_server_error(app: Flask) -> None:
    client = app.test_client()
    login(client, OFFICER)
    for method, url in officer_urls(app):
        if method != "GET":
            continue
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
