"""Build the load benchmark's PostgreSQL database: 20,000 profiles and a live full run.

Drops and recreates the database (default ``grantmatch_load`` on 127.0.0.1:5432, user
postgres), migrates it (core.schema.upgrade: the seven MOC fields come with the schema),
and fills it with bulk inserts:

* organizations: the demo institutions of both countries plus generated startups;
* profiles (``--per-side`` per country, 10,000 by default), consented to the current
  notice, 4 % paused: titles and summaries recombined from the 210 demo topics of
  core/demo (a random subset of the topic's sentences in English, Japanese or French,
  a sentence of another topic of the same field half of the time, a secondary field 30 %
  of the time, the product line for startups and a closing "we seek" sentence), so the
  texts read like the demo's and vary from profile to profile;
* accounts (password ``load-password-2026``): ``--registrants`` registrants
  (registrant0001@load.grantmatch.example ..., half owning a Japanese profile, half a
  Canadian one) and ``--officers`` officers (officer01@load.grantmatch.example ...);
* a live full run computed by the real matcher (runs.run_full_rematch, top k 20 per side
  and field), timed, then officers' decisions on 1 % of its pairs, answers and a few
  introductions, so that the review queue's status filters find something.

Run: .venv/bin/python -m bench.load_data  (prints what it built and how long each step took)
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from core import db, demo, schema
from core.models import (
    Decision,
    Field,
    Interest,
    InterestState,
    Introduction,
    IntroductionStatus,
    Match,
    MatchRun,
    Organization,
    PairDecision,
    PairReview,
    Profile,
    ReasonCode,
    ReviewStatus,
    Role,
    User,
    profile_fields,
    utcnow,
)
from core.services import demo as demo_service
from core.services import runs
from core.services.consent import NOTICE_VERSION

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/grantmatch_load"
PASSWORD = "load-password-2026"
REGISTRANT_EMAIL = "registrant{:04d}@load.grantmatch.example"
OFFICER_EMAIL = "officer{:02d}@load.grantmatch.example"
SEED = 2023_09_21


@dataclass(frozen=True)
class Built:
    profiles: int
    registrants: int
    officers: int
    pairs: int
    run_id: int
    timings: dict[str, float]


@contextmanager
def timed(label: str, sink: dict[str, float]) -> Iterator[None]:
    started = time.perf_counter()
    yield
    sink[label] = time.perf_counter() - started


def recreate_database(url: str) -> None:
    """Drop the database named in ``url`` (closing its connections) and create it empty."""
    parsed = make_url(url)
    name = parsed.database
    if not name or not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing to recreate database {name!r}")
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _language(rng: random.Random, country: str) -> str:
    # As in the demo: about 20 % of all summaries in Japanese and 10 % in French.
    if country == "JP":
        return "ja" if rng.random() < 0.4 else "en"
    return "fr" if rng.random() < 0.2 else "en"


class TextMaker:
    """Titles and summaries recombined from the demo topics (deterministic for a seed)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.topics = demo.load_topics()
        self.by_field: dict[str, list[dict[str, Any]]] = {}
        for topic in self.topics:
            self.by_field.setdefault(topic["field"], []).append(topic)
        self.sentences: dict[tuple[str, str], list[str]] = {}
        for topic in self.topics:
            for lang in ("en", "ja", "fr"):
                self.sentences[(topic["key"], lang)] = demo_service._sentences(
                    str(topic[lang]["summary"]), lang
                )

    def profile(self, country: str, kind: str) -> dict[str, Any]:
        rng = self.rng
        topic = rng.choice(self.topics)
        lang = _language(rng, country)
        sentences = list(self.sentences[(topic["key"], lang)])
        for _ in range(rng.randint(0, 2)):
            if len(sentences) > 2:
                sentences.pop(rng.randrange(len(sentences)))
        parts = sentences
        if kind == "startup":
            parts.insert(0, demo_service._product_sentence(topic, lang))
        if rng.random() < 0.5:  # a neighbouring interest in the same field
            near = rng.choice(self.by_field[topic["field"]])
            parts.insert(
                rng.randint(1, len(parts)), rng.choice(self.sentences[(near["key"], lang)])
            )
        fields = [topic["field"]]
        if rng.random() < 0.3:  # a second field, as in the demo
            secondary = rng.choice(self.topics)
            if secondary["field"] != topic["field"]:
                fields.append(secondary["field"])
                parts.append(self.sentences[(secondary["key"], lang)][0])
        other = demo.OTHER_COUNTRY_NAMES[(country, lang)]
        parts.append(rng.choice(demo.SEEKING_SENTENCES[(kind, lang)]).format(other=other))
        title = topic["alt_title"][lang] if rng.random() < 0.5 else topic[lang]["title"]
        keywords = list(topic["keywords"][lang])
        rng.shuffle(keywords)
        return {
            "title": str(title),
            "summary": ("" if lang == "ja" else " ").join(parts),
            "language": lang,
            "keywords": keywords[: rng.randint(3, len(keywords))],
            "fields": fields,
        }


def _person(rng: random.Random, country: str) -> str:
    family, given = (
        (demo.JP_FAMILY, demo.JP_GIVEN) if country == "JP" else (demo.CA_FAMILY, demo.CA_GIVEN)
    )
    return f"{rng.choice(given)} {rng.choice(family)}"


def _organizations(rng: random.Random, per_side: int) -> list[dict[str, Any]]:
    """Institutions of both countries, then about one startup per six profiles."""
    rows: list[dict[str, Any]] = []
    now = utcnow()
    for country, institutions in (("JP", demo.JP_INSTITUTIONS), ("CA", demo.CA_INSTITUTIONS)):
        for name, kind, region, staff, founded in institutions:
            rows.append(
                {
                    "name": name,
                    "country": country,
                    "kind": kind,
                    "staff_count": staff,
                    "founded_year": founded,
                    "website": None,
                    "created_at": now,
                    "_region": region,
                }
            )
    for country in ("JP", "CA"):
        stems = demo.JP_STARTUP_STEMS if country == "JP" else demo.CA_STARTUP_STEMS
        suffix_all = [s for values in demo.STARTUP_SUFFIXES.values() for s in values]
        regions = demo.JP_REGIONS_FOR_STARTUPS if country == "JP" else demo.CA_REGIONS_FOR_STARTUPS
        for n in range(per_side // 6):
            stem, suffix = rng.choice(stems), rng.choice(suffix_all)
            name = f"{stem} {suffix} {n + 1}" + (" K.K." if country == "JP" else " Inc.")
            rows.append(
                {
                    "name": name,
                    "country": country,
                    "kind": "startup" if rng.random() < 0.8 else "sme",
                    "staff_count": rng.randint(3, 120),
                    "founded_year": rng.randint(2012, 2025),
                    "website": f"https://{stem.lower().replace(' ', '')}{n + 1}.example",
                    "created_at": now,
                    "_region": rng.choice(regions),
                }
            )
    return rows


def build(
    url: str = DEFAULT_URL,
    *,
    per_side: int = 10_000,
    registrants: int = 500,
    officers: int = 20,
    top_k: int = 20,
    seed: int = SEED,
    log: Any = print,
) -> Built:
    """Recreate the database at ``url`` and fill it (see the module docstring)."""
    timings: dict[str, float] = {}
    rng = random.Random(seed)
    with timed("create and migrate", timings):
        recreate_database(url)
        schema.upgrade(url)
        db.configure(url)

    with timed("profiles, accounts", timings), db.session_scope() as session:
        fields = {f.code: f.id for f in session.scalars(select(Field))}
        org_rows = _organizations(rng, per_side)
        regions = [row.pop("_region") for row in org_rows]
        org_ids = list(
            session.scalars(
                insert(Organization).returning(Organization.id, sort_by_parameter_order=True),
                org_rows,
            )
        )
        orgs = [
            (org_id, row["country"], row["kind"], region)
            for org_id, row, region in zip(org_ids, org_rows, regions, strict=True)
        ]
        institutions = {
            c: [o for o in orgs if o[1] == c and o[2] not in ("startup", "sme")]
            for c in ("JP", "CA")
        }
        startups = {
            c: [o for o in orgs if o[1] == c and o[2] in ("startup", "sme")] for c in ("JP", "CA")
        }

        maker = TextMaker(rng)
        now = utcnow()
        profile_rows: list[dict[str, Any]] = []
        field_codes: list[list[str]] = []
        for country in ("JP", "CA"):
            for _ in range(per_side):
                kind = "startup" if rng.random() < 0.4 else "researcher"
                org_id, _c, _k, region = rng.choice(
                    startups[country] if kind == "startup" else institutions[country]
                )
                content = maker.profile(country, kind)
                name = _person(rng, country)
                created = now - timedelta(days=rng.uniform(1, 365))
                profile_rows.append(
                    {
                        "organization_id": org_id,
                        "kind": kind,
                        "country": country,
                        "region": region,
                        "contact_name": name,
                        "contact_email": name.lower().replace(" ", ".") + "@research.example",
                        "title": content["title"],
                        "summary": content["summary"],
                        "language": content["language"],
                        "keywords": content["keywords"],
                        "seeking": rng.sample(["researcher", "startup", "sme", "large_company"], 2),
                        "collaboration_types": ["joint_rd"],
                        "availability": "paused" if rng.random() < 0.04 else "open",
                        "consent_at": created,
                        "consent_version": NOTICE_VERSION,
                        "created_at": created,
                        "updated_at": created,
                    }
                )
                field_codes.append(content["fields"])
        profile_ids = list(
            session.scalars(
                insert(Profile).returning(Profile.id, sort_by_parameter_order=True), profile_rows
            )
        )
        session.execute(
            insert(profile_fields),
            [
                {"profile_id": pid, "field_id": fields[code]}
                for pid, codes in zip(profile_ids, field_codes, strict=True)
                for code in codes
            ],
        )

        # One scrypt hash for every account: hashing 520 times would take a minute.
        password_hash = generate_password_hash(PASSWORD)
        open_ids = {
            country: [
                pid
                for pid, row in zip(profile_ids, profile_rows, strict=True)
                if row["country"] == country and row["availability"] == "open"
            ]
            for country in ("JP", "CA")
        }
        owned: list[tuple[int, dict[str, Any]]] = []
        users: list[dict[str, Any]] = []
        by_id = dict(zip(profile_ids, profile_rows, strict=True))
        for n in range(registrants):
            country = "JP" if n % 2 == 0 else "CA"
            pid = open_ids[country][n // 2 * 7 % len(open_ids[country])]
            row = by_id[pid]
            owned.append((pid, row))
            users.append(
                {
                    "email": REGISTRANT_EMAIL.format(n + 1),
                    "password_hash": password_hash,
                    "display_name": row["contact_name"],
                    "role": Role.REGISTRANT.value,
                    "locale": row["language"],
                    "email_verified_at": now,
                    "created_at": now,
                    # Half have never opened "My matches": everything is new to them.
                    "matches_seen_at": None if n % 4 < 2 else now - timedelta(days=3),
                }
            )
        for n in range(officers):
            users.append(
                {
                    "email": OFFICER_EMAIL.format(n + 1),
                    "password_hash": password_hash,
                    "display_name": f"Load Officer {n + 1}",
                    "role": Role.OFFICER.value,
                    "locale": "en",
                    "email_verified_at": now,
                    "created_at": now,
                    "matches_seen_at": None,
                }
            )
        user_ids = list(
            session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), users)
        )
        for user_id, (pid, _row), user in zip(user_ids, owned, users, strict=False):
            session.execute(
                Profile.__table__.update()
                .where(Profile.__table__.c.id == pid)
                .values(owner_id=user_id, contact_email=user["email"])
            )
    log(
        f"built {len(profile_ids):,} profiles, {len(org_rows):,} organizations, "
        f"{registrants} registrants, {officers} officers "
        f"({timings['profiles, accounts']:.1f} s)"
    )

    with timed("full rematch", timings), db.session_scope() as session:
        run = runs.run_full_rematch(session, top_k=top_k)
        run_id, pairs = run.id, run.pair_count or 0
    log(f"full rematch: run {run_id} live with {pairs:,} pairs ({timings['full rematch']:.1f} s)")

    with timed("reviews, answers", timings), db.session_scope() as session:
        _decisions(
            session,
            rng,
            run_id,
            [u for u, x in zip(user_ids, users, strict=True) if x["role"] == "officer"],
        )
    with timed("vacuum analyze", timings):
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("VACUUM ANALYZE"))
        engine.dispose()
    return Built(len(profile_ids), registrants, officers, pairs, run_id, timings)


def _decisions(session: Any, rng: random.Random, run_id: int, officer_ids: list[int]) -> None:
    """Officers' decisions on about 1 % of the live pairs, answers on some, a few
    introductions: the queue's status filters and the pair pages then have content."""
    pairs = list(
        session.execute(
            select(Match.jp_profile_id, Match.ca_profile_id)
            .where(Match.run_id == run_id)
            .distinct()
        )
    )
    rng.shuffle(pairs)
    chosen = pairs[: max(1, len(pairs) // 100)]
    now = utcnow()
    statuses = [ReviewStatus.SHORTLISTED, ReviewStatus.APPROVED, ReviewStatus.REJECTED]
    reviews, decisions = [], []
    for jp_id, ca_id in chosen:
        status = rng.choice(statuses)
        officer = rng.choice(officer_ids)
        reason = ReasonCode.OFF_TOPIC.value if status == ReviewStatus.REJECTED else None
        reviews.append(
            {
                "jp_profile_id": jp_id,
                "ca_profile_id": ca_id,
                "status": status.value,
                "reason_code": reason,
                "note": "",
                "updated_at": now,
                "updated_by": officer,
            }
        )
        decision = {
            ReviewStatus.SHORTLISTED: Decision.SHORTLIST,
            ReviewStatus.APPROVED: Decision.APPROVE,
            ReviewStatus.REJECTED: Decision.REJECT,
        }[status]
        decisions.append(
            {
                "jp_profile_id": jp_id,
                "ca_profile_id": ca_id,
                "officer_id": officer,
                "decision": decision.value,
                "reason_code": reason,
                "note": "",
                "previous_status": None,
                "new_status": status.value,
                "created_at": now,
            }
        )
    session.execute(insert(PairReview), reviews)
    session.execute(insert(PairDecision), decisions)
    answered = pairs[len(chosen) : len(chosen) + len(pairs) // 50]
    interests, introductions = [], []
    for n, (jp_id, ca_id) in enumerate(answered):
        state = rng.choice(list(InterestState))
        interests.append(
            {
                "profile_id": jp_id,
                "partner_profile_id": ca_id,
                "state": state.value,
                "reason_code": None,
                "reason_text": "",
                "created_at": now,
                "updated_at": now,
            }
        )
        if n % 20 == 0:  # both interested: introduced
            interests[-1]["state"] = InterestState.INTERESTED.value
            interests.append(
                {
                    "profile_id": ca_id,
                    "partner_profile_id": jp_id,
                    "state": InterestState.INTERESTED.value,
                    "reason_code": None,
                    "reason_text": "",
                    "created_at": now,
                    "updated_at": now,
                }
            )
            introductions.append(
                {
                    "jp_profile_id": jp_id,
                    "ca_profile_id": ca_id,
                    "status": IntroductionStatus.INTRODUCED.value,
                    "created_at": now,
                    "introduced_at": now,
                    "approved_by": None,
                }
            )
    session.execute(insert(Interest), interests)
    session.execute(insert(Introduction), introductions)


def describe(url: str) -> dict[str, int]:
    """Row counts of what the benchmark reads (for the report)."""
    engine = create_engine(url)
    counts: dict[str, int] = {}
    with engine.connect() as connection:
        live = connection.execute(select(MatchRun.id).where(MatchRun.is_live.is_(True))).scalar()
        counts["profiles"] = (
            connection.execute(select(func.count()).select_from(Profile)).scalar() or 0
        )
        counts["live pairs"] = (
            connection.execute(
                select(func.count()).select_from(Match).where(Match.run_id == live)
            ).scalar()
            or 0
        )
        counts["pair reviews"] = (
            connection.execute(select(func.count()).select_from(PairReview)).scalar() or 0
        )
    engine.dispose()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--per-side", type=int, default=10_000)
    parser.add_argument("--registrants", type=int, default=500)
    parser.add_argument("--officers", type=int, default=20)
    parser.add_argument("--top-k", type=int, default=20)
    args = parser.parse_args()
    built = build(
        args.database_url,
        per_side=args.per_side,
        registrants=args.registrants,
        officers=args.officers,
        top_k=args.top_k,
    )
    for label, seconds in built.timings.items():
        print(f"{label:20s} {seconds:8.1f} s")
    print(describe(args.database_url))


if __name__ == "__main__":
    main()
