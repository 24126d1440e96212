"""Locust users for the load benchmark (bench/load.py runs it; see docs/benchmarks.md, "Load").

Two kinds of simulated people, each logged in once (on_start) with its own account:

* Registrant (weight 3): opens "My matches" (/matches/), the new proposals of one field
  (/matches/?field=<code>&new=1) and their profile (/profile/);
* Officer (weight 1): filters the review queue (/officer/pairs with a random combination
  of field, min_score, pair_kind, region, organization_kind, status, sort and page 1-5)
  and opens a pair page (/officer/pairs/<jp>-<ca>) picked from the queue it was shown.

Logins are not part of the measurement. Login is rate limited per client address (10 a
minute, 50 an hour: web/security.py), so each simulated user sends all its requests from
its own loopback address (127.0.1.N; on Linux all of 127.0.0.0/8 reaches the local
server), as 50 people on 50 machines would: the limits stay as they are and are never
hit. Once every user is logged in the statistics are reset and the measured window
(LOAD_MEASURE_SECONDS, 60 by default) starts after LOAD_WARMUP_SECONDS (10) and, if
LOAD_START_FILE is set, once that file exists; Locust stops by itself when it ends.

Settings (environment): LOAD_PASSWORD, LOAD_REGISTRANTS and LOAD_OFFICERS (how many accounts
of each kind exist: bench/load_data.py), LOAD_WAIT_MIN / LOAD_WAIT_MAX (think time in
seconds between two pages of one user, 1-3 by default), LOAD_MEASURE_SECONDS,
LOAD_WINDOW_FILE (where the start and end of the window are written, as Unix times),
LOAD_REQUESTS_FILE (every measured request: completion time, endpoint, ms, success),
LOAD_QUEUE_STATES (the review states officers filter on, comma separated; all five by
default), LOAD_SOURCE_ADDRESSES=0 to send everything from 127.0.0.1 instead.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from typing import Any

import gevent
from locust import HttpUser, between, events, task
from locust.env import Environment
from requests.adapters import HTTPAdapter

PASSWORD = os.environ.get("LOAD_PASSWORD", "load-password-2026")
REGISTRANTS = int(os.environ.get("LOAD_REGISTRANTS", "500"))
OFFICERS = int(os.environ.get("LOAD_OFFICERS", "20"))
WAIT_MIN = float(os.environ.get("LOAD_WAIT_MIN", "1"))
WAIT_MAX = float(os.environ.get("LOAD_WAIT_MAX", "3"))
WARMUP_SECONDS = float(os.environ.get("LOAD_WARMUP_SECONDS", "10"))
MEASURE_SECONDS = float(os.environ.get("LOAD_MEASURE_SECONDS", "60"))
WINDOW_FILE = os.environ.get("LOAD_WINDOW_FILE", "")
REQUESTS_FILE = os.environ.get("LOAD_REQUESTS_FILE", "")
START_FILE = os.environ.get("LOAD_START_FILE", "")
STATES = tuple(
    os.environ.get("LOAD_QUEUE_STATES", "none,shortlisted,approved,rejected,introduced").split(",")
)
SOURCE_ADDRESSES = os.environ.get("LOAD_SOURCE_ADDRESSES", "1") != "0"

FIELDS = (
    "quantum",
    "semiconductors",
    "artificial_intelligence",
    "advanced_manufacturing",
    "clean_technology",
    "life_sciences",
    "other",
)
PAIR_KINDS = (
    "researcher-researcher",
    "researcher-startup",
    "startup-researcher",
    "startup-startup",
)
SORTS = ("-score", "newest", "field")
ORGANIZATION_KINDS = ("startup", "sme", "university", "public_research_institute")
REGIONS = ("JP-13", "JP-27", "JP-26", "JP-08", "JP-01", "CA-ON", "CA-QC", "CA-BC", "CA-AB")
MIN_SCORES = ("0.1", "0.2", "0.3", "0.4")

_CSRF = re.compile(
    r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"|'
    r'<input[^>]*value="([^"]+)"[^>]*name="csrf_token"'
)
_PAIR_LINK = re.compile(r'href="/officer/pairs/(\d+)-(\d+)"')

_registrant_numbers = itertools.count(1)
_officer_numbers = itertools.count(1)
_address_numbers = itertools.count(1)
_logged_in = 0
_window: dict[str, float] = {}
_requests: list[str] = []


class SourceAddressAdapter(HTTPAdapter):
    """Open every connection from one local address (one simulated client machine)."""

    def __init__(self, source: str, **kwargs: Any) -> None:
        self.source = source
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def csrf_token(html: str) -> str:
    """The Flask-WTF token of the first form on the page."""
    found = _CSRF.search(html)
    if not found:
        raise ValueError("no csrf_token on the page")
    return found.group(1) or found.group(2)


def _write_window() -> None:
    if WINDOW_FILE:
        with open(WINDOW_FILE, "w", encoding="utf-8") as out:
            json.dump(_window, out)


def _measure(environment: Environment) -> None:
    """Every user is logged in: warm up, forget all that, measure for MEASURE_SECONDS, stop."""
    runner = environment.runner
    assert runner is not None
    _write_window()  # "logged_in": bench/load.py queues the full rematch now
    gevent.sleep(WARMUP_SECONDS)
    # bench/load.py may hold the window back until the rematch reaches a given phase.
    while START_FILE and not os.path.exists(START_FILE):
        gevent.sleep(0.2)
    environment.stats.reset_all()
    _requests.clear()
    _window["start"] = time.time()
    _write_window()
    gevent.sleep(MEASURE_SECONDS)
    _window["end"] = time.time()
    _write_window()
    runner.quit()


class LoggedInUser(HttpUser):
    abstract = True
    wait_time = between(WAIT_MIN, WAIT_MAX)

    def account(self) -> str:
        raise NotImplementedError

    def on_start(self) -> None:
        if SOURCE_ADDRESSES:
            n = next(_address_numbers)
            address = f"127.0.{1 + n // 250}.{1 + n % 250}"
            adapter = SourceAddressAdapter(address)
            self.client.mount("http://", adapter)
        email = self.account()
        page = self.client.get("/login", name="login (not measured)")
        with self.client.post(
            "/login",
            data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
            name="login (not measured)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login of {email} answered {response.status_code}")
                raise RuntimeError(f"login of {email} failed: {response.status_code}")
            response.success()
        global _logged_in
        _logged_in += 1
        runner = self.environment.runner
        if runner is not None and _logged_in == runner.target_user_count and not _window:
            _window["logged_in"] = time.time()
            gevent.spawn(_measure, self.environment)


class Registrant(LoggedInUser):
    weight = 3

    def account(self) -> str:
        n = (next(_registrant_numbers) - 1) % REGISTRANTS + 1
        return f"registrant{n:04d}@load.grantmatch.example"

    @task(3)
    def my_matches(self) -> None:
        self.client.get("/matches/", name="/matches/")

    @task(2)
    def new_in_field(self) -> None:
        field = random.choice(FIELDS)
        self.client.get(f"/matches/?field={field}&new=1", name="/matches/?field=&new=1")

    @task(1)
    def my_profile(self) -> None:
        self.client.get("/profile/", name="/profile/")


class Officer(LoggedInUser):
    weight = 1

    def account(self) -> str:
        n = (next(_officer_numbers) - 1) % OFFICERS + 1
        return f"officer{n:02d}@load.grantmatch.example"

    def on_start(self) -> None:
        super().on_start()
        self.seen: list[tuple[str, str]] = []

    @task(3)
    def queue(self) -> None:
        params: dict[str, str] = {}
        if random.random() < 0.6:
            params["field"] = random.choice(FIELDS)
        if random.random() < 0.3:
            params["min_score"] = random.choice(MIN_SCORES)
        if random.random() < 0.2:
            params["pair_kind"] = random.choice(PAIR_KINDS)
        if random.random() < 0.2:
            params["region"] = random.choice(REGIONS)
        if random.random() < 0.1:
            params["organization_kind"] = random.choice(ORGANIZATION_KINDS)
        if random.random() < 0.2:
            params["status"] = random.choice(STATES)
        if random.random() < 0.5:
            params["sort"] = random.choice(SORTS)
        params["page"] = str(random.randint(1, 5))
        response = self.client.get("/officer/pairs", params=params, name="/officer/pairs")
        pairs = _PAIR_LINK.findall(response.text or "")
        if pairs:
            self.seen = pairs[:50]

    @task(2)
    def pair(self) -> None:
        if not self.seen:
            self.queue()
            return
        jp, ca = random.choice(self.seen)
        self.client.get(f"/officer/pairs/{jp}-{ca}", name="/officer/pairs/<jp>-<ca>")


@events.request.add_listener
def _on_request(
    request_type: str,
    name: str,
    response_time: float,
    exception: Any,
    url: str = "",
    **_kwargs: Any,
) -> None:
    # Every request with its completion time: bench/load.py computes exact percentiles
    # over the window (Locust's own histogram rounds times above 100 ms to 10 ms).
    if REQUESTS_FILE and _window.get("start") and "not measured" not in name:
        _requests.append(
            json.dumps(
                {
                    "at": time.time(),
                    "name": name,
                    "url": url,
                    "ms": response_time,
                    "ok": exception is None,
                    "error": str(exception)[:200] if exception is not None else "",
                }
            )
        )


@events.quitting.add_listener
def _on_quitting(environment: Environment, **_kwargs: Any) -> None:
    if REQUESTS_FILE:
        with open(REQUESTS_FILE, "w", encoding="utf-8") as out:
            out.write("\n".join(_requests) + ("\n" if _requests else ""))
    if not _window.get("start"):
        # The run ended before every user was logged in: nothing was measured.
        environment.process_exit_code = 3
