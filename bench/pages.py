"""Page costs on a quiet machine: each page of the load benchmark's mix, one request at a
time, in this process (Flask's test client, no HTTP server, no other load).

Where bench/load.py measures what 50 users see while a full rematch runs, this shows what
one page costs by itself and how much of it is SQL, so that a change to a page can be
measured in seconds. It reads the load benchmark's database (build it first with
``.venv/bin/python -m bench.load_data``) and changes nothing in it but the logged-in
accounts' "last seen" times.

Run: .venv/bin/python -m bench.pages [--repeat 8] [--database-url URL]

For each page: median wall time over --repeat requests (after one warm-up request), the
median time spent in SQL statements, the number of statements and the page's size.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench import load_data
from core import db
from core.config import Settings

REGISTRANT = "registrant0007@load.grantmatch.example"
OFFICER = "officer01@load.grantmatch.example"
PAGES = (
    ("registrant", "/matches/"),
    ("registrant", "/matches/?field=quantum&new=1"),
    ("registrant", "/profile/"),
    ("officer", "/officer/pairs"),
    ("officer", "/officer/pairs?page=5"),
    ("officer", "/officer/pairs?field=quantum&page=3"),
    ("officer", "/officer/pairs?status=none"),
    ("officer", "/officer/pairs?status=approved"),
    ("officer", "/officer/pairs?status=introduced&field=other"),
    ("officer", "/officer/pairs?sort=newest&page=2"),
    ("officer", "/officer/pairs?sort=field&page=4"),
    ("officer", "/officer/pairs?sort=-score"),
    ("officer", "/officer/pairs?region=CA-ON&min_score=0.3"),
    ("officer", "/officer/pairs?organization_kind=sme"),
    ("officer", "/officer/pairs?pair_kind=startup-startup&field=quantum"),
)
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_PAIR_LINK = re.compile(r'href="(/officer/pairs/\d+-\d+)"')


class SqlClock:
    """Time spent in SQL statements on every engine of this process."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.statements = 0
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.seconds, self.statements = 0.0, 0

    def _before(self, conn: Any, *_args: Any) -> None:
        conn.info.setdefault("started", []).append(time.perf_counter())

    def _after(self, conn: Any, *_args: Any) -> None:
        self.seconds += time.perf_counter() - conn.info["started"].pop()
        self.statements += 1


def log_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    found = _CSRF.search(form)
    if not found:
        raise SystemExit("no CSRF token on the login page")
    answer = client.post(
        "/login",
        data={"email": email, "password": load_data.PASSWORD, "csrf_token": found.group(1)},
    )
    if answer.status_code != 302:
        raise SystemExit(f"logging in as {email} answered {answer.status_code}")
    return client


def measure(client: FlaskClient, url: str, repeat: int, clock: SqlClock) -> dict[str, Any]:
    first = client.get(url)
    if first.status_code != 200:
        raise SystemExit(f"{url} answered {first.status_code}")
    walls, sqls, statements = [], [], 0
    for _ in range(repeat):
        clock.reset()
        started = time.perf_counter()
        client.get(url)
        walls.append(time.perf_counter() - started)
        sqls.append(clock.seconds)
        statements = clock.statements
    return {
        "url": url,
        "ms": statistics.median(walls) * 1000,
        "sql_ms": statistics.median(sqls) * 1000,
        "statements": statements,
        "bytes": len(first.data),
        "html": first.get_data(as_text=True),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=load_data.DEFAULT_URL)
    parser.add_argument("--repeat", type=int, default=8)
    args = parser.parse_args()

    from web import create_app  # after the environment below is set

    instance = tempfile.mkdtemp(prefix="grantmatch-pages-")
    settings = Settings.from_env(
        {
            **os.environ,
            "GRANTMATCH_ENV": "development",
            "GRANTMATCH_DATABASE_URL": args.database_url,
            "GRANTMATCH_INSTANCE_PATH": instance,
        }
    )
    db.configure(settings.database_url)
    app = create_app(settings)
    app.config["RATELIMIT_ENABLED"] = False  # two logins in a row from one address
    clients = {"registrant": log_in(app, REGISTRANT), "officer": log_in(app, OFFICER)}
    clock = SqlClock()

    rows = [measure(clients[who], url, args.repeat, clock) for who, url in PAGES]
    pair = _PAIR_LINK.search(rows[3]["html"])
    if pair:
        rows.append(measure(clients["officer"], pair.group(1), args.repeat, clock))
    print(f"median of {args.repeat} requests each, one at a time, Flask test client")
    print(f"{'page':58s} {'ms':>7s} {'sql ms':>7s} {'stmts':>5s} {'KB':>6s}")
    for row in rows:
        print(
            f"{row['url']:58s} {row['ms']:7.1f} {row['sql_ms']:7.1f} {row['statements']:5d} "
            f"{row['bytes'] / 1024:6.1f}"
        )


if __name__ == "__main__":
    main()
