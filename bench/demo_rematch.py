"""Time the foundation's matching on the demo world (embedded SQLite default).

Prints: profiles, pairs, seconds for seeding, a full rematch and incremental rematches.
Run: .venv/bin/python bench/demo_rematch.py [--incremental N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from core import db, schema
from core.models import Profile
from core.services import demo, matching, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incremental", type=int, default=20, help="incremental rematches")
    parser.add_argument("--top-k", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        db.configure(url)
        schema.upgrade(url)
        started = time.perf_counter()
        with db.session_scope() as session:
            profiles = demo.seed_demo(session)
        seeded = time.perf_counter() - started

        started = time.perf_counter()
        with db.session_scope() as session:
            run = runs.run_full_rematch(session, top_k=args.top_k)
            pairs, vocabulary = run.pair_count, run.vocabulary_size
        full = time.perf_counter() - started

        with db.session_scope() as session:
            ids = list(session.scalars(select(Profile.id).order_by(Profile.id)))
        step = max(1, len(ids) // max(1, args.incremental))
        timings = []
        for profile_id in ids[::step][: args.incremental]:
            started = time.perf_counter()
            with db.session_scope() as session:
                matching.rematch_profile(session, profile_id=profile_id, top_k=args.top_k)
            timings.append(time.perf_counter() - started)

    print(f"profiles            {profiles}")
    print(f"vocabulary          {vocabulary}")
    print(f"live pairs          {pairs}")
    print(f"seed demo           {seeded:.2f} s")
    print(f"full rematch        {full:.2f} s (fit, match, write)")
    print(
        f"incremental         median {statistics.median(timings) * 1000:.0f} ms, "
        f"max {max(timings) * 1000:.0f} ms over {len(timings)} profiles"
    )


if __name__ == "__main__":
    main()
