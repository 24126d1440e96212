"""Indexes for the review queue's order (a run's pairs by score descending, then id) and
for a pair's history across runs.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_matches_run_id_score_desc_id",
        "matches",
        ["run_id", sa.text("score DESC"), "id"],
    )
    op.create_index(
        "ix_matches_jp_profile_id_ca_profile_id", "matches", ["jp_profile_id", "ca_profile_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_matches_jp_profile_id_ca_profile_id", table_name="matches")
    op.drop_index("ix_matches_run_id_score_desc_id", table_name="matches")
