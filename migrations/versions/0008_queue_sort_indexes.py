"""Indexes for the review queue's other orders: by field (then score descending, then id)
and newest first; the field one replaces (run_id, field_id, score), which it covers.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_matches_run_id_field_id_score_desc_id",
        "matches",
        ["run_id", "field_id", sa.text("score DESC"), "id"],
    )
    op.drop_index(op.f("ix_matches_run_id_field_id_score"), table_name="matches")
    op.create_index(
        "ix_matches_run_id_first_proposed_at_desc",
        "matches",
        ["run_id", sa.text("first_proposed_at DESC"), sa.text("score DESC"), "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_matches_run_id_first_proposed_at_desc", table_name="matches")
    op.create_index(
        op.f("ix_matches_run_id_field_id_score"), "matches", ["run_id", "field_id", "score"]
    )
    op.drop_index("ix_matches_run_id_field_id_score_desc_id", table_name="matches")
