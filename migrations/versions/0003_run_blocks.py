"""Full runs in blocks: block rows, staged candidates, progress, one full run at a time.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FULL_RUN_IN_PROGRESS = "kind = 'full' AND status IN ('pending', 'running')"


def upgrade() -> None:
    with op.batch_alter_table("match_runs") as batch:
        batch.add_column(
            sa.Column("blocks_total", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("blocks_done", sa.Integer(), server_default="0", nullable=False))
    op.create_index(
        "uq_match_runs_full_in_progress",
        "match_runs",
        ["kind"],
        unique=True,
        sqlite_where=sa.text(FULL_RUN_IN_PROGRESS),
        postgresql_where=sa.text(FULL_RUN_IN_PROGRESS),
    )
    op.create_table(
        "run_blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("field_id", sa.Integer(), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(7), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'done', 'failed')", name=op.f("ck_run_blocks_block_status")
        ),
        sa.ForeignKeyConstraint(
            ["field_id"],
            ["fields.id"],
            name=op.f("fk_run_blocks_field_id_fields"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["match_runs.id"],
            name=op.f("fk_run_blocks_run_id_match_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_blocks")),
        sa.UniqueConstraint(
            "run_id", "field_id", "first_id", name=op.f("uq_run_blocks_run_id_field_id_first_id")
        ),
    )
    op.create_table(
        "block_candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=False),
        sa.Column("field_id", sa.Integer(), nullable=False),
        sa.Column("jp_profile_id", sa.Integer(), nullable=False),
        sa.Column("ca_profile_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("is_row", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["block_id"],
            ["run_blocks.id"],
            name=op.f("fk_block_candidates_block_id_run_blocks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["match_runs.id"],
            name=op.f("fk_block_candidates_run_id_match_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_candidates")),
    )
    op.create_index(op.f("ix_block_candidates_block_id"), "block_candidates", ["block_id"])
    op.create_index(
        op.f("ix_block_candidates_run_id_field_id"), "block_candidates", ["run_id", "field_id"]
    )


def downgrade() -> None:
    op.drop_table("block_candidates")
    op.drop_table("run_blocks")
    op.drop_index("uq_match_runs_full_in_progress", table_name="match_runs")
    with op.batch_alter_table("match_runs") as batch:
        batch.drop_column("blocks_done")
        batch.drop_column("blocks_total")
