"""Officers: pair reviews and decisions, conflicts of interest, grant calls and their
released proposals, retained pairs; decisions move off run-bound matches.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "grant_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("field_codes", sa.JSON(), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("jp_organization_kinds", sa.JSON(), nullable=False),
        sa.Column("ca_organization_kinds", sa.JSON(), nullable=False),
        sa.Column("jp_max_staff", sa.Integer(), nullable=True),
        sa.Column("ca_max_staff", sa.Integer(), nullable=True),
        sa.Column("excluded_terms", sa.JSON(), nullable=False),
        sa.Column("distinct_organizations", sa.Boolean(), nullable=False),
        sa.Column("max_proposals_per_profile", sa.Integer(), nullable=True),
        sa.Column("startup_capacity", sa.Integer(), nullable=False),
        sa.Column("researcher_capacity", sa.Integer(), nullable=False),
        sa.Column("requires_approval", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grant_calls")),
    )
    op.create_table(
        "officer_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["officer_id"],
            ["users.id"],
            name=op.f("fk_officer_conflicts_officer_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_officer_conflicts_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officer_conflicts")),
        sa.UniqueConstraint(
            "officer_id",
            "organization_id",
            name=op.f("uq_officer_conflicts_officer_id_organization_id"),
        ),
    )
    with op.batch_alter_table("officer_conflicts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_officer_conflicts_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "call_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("field_id", sa.Integer(), nullable=False),
        sa.Column("jp_profile_id", sa.Integer(), nullable=False),
        sa.Column("ca_profile_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ca_profile_id"],
            ["profiles.id"],
            name=op.f("fk_call_proposals_ca_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["grant_calls.id"],
            name=op.f("fk_call_proposals_call_id_grant_calls"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["field_id"],
            ["fields.id"],
            name=op.f("fk_call_proposals_field_id_fields"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["jp_profile_id"],
            ["profiles.id"],
            name=op.f("fk_call_proposals_jp_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_proposals")),
        sa.UniqueConstraint(
            "call_id",
            "jp_profile_id",
            "ca_profile_id",
            name=op.f("uq_call_proposals_call_id_jp_profile_id_ca_profile_id"),
        ),
    )
    with op.batch_alter_table("call_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_call_proposals_ca_profile_id"), ["ca_profile_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_call_proposals_jp_profile_id"), ["jp_profile_id"], unique=False
        )

    op.create_table(
        "pair_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jp_profile_id", sa.Integer(), nullable=False),
        sa.Column("ca_profile_id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("decision", sa.String(9), nullable=False),
        sa.Column("reason_code", sa.String(20), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("previous_status", sa.String(length=20), nullable=True),
        sa.Column("new_status", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ca_profile_id"],
            ["profiles.id"],
            name=op.f("fk_pair_decisions_ca_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["jp_profile_id"],
            ["profiles.id"],
            name=op.f("fk_pair_decisions_jp_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "decision IN ('approve', 'reject', 'shortlist', 'note')",
            name=op.f("ck_pair_decisions_decision"),
        ),
        sa.CheckConstraint(
            "reason_code IN ('off_topic', 'ineligible', 'conflict_of_interest', 'duplicate', 'other')",
            name=op.f("ck_pair_decisions_reason_code"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pair_decisions")),
    )
    with op.batch_alter_table("pair_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pair_decisions_jp_profile_id_ca_profile_id"),
            ["jp_profile_id", "ca_profile_id"],
            unique=False,
        )

    op.create_table(
        "pair_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jp_profile_id", sa.Integer(), nullable=False),
        sa.Column("ca_profile_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(11), nullable=False),
        sa.Column("reason_code", sa.String(20), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ca_profile_id"],
            ["profiles.id"],
            name=op.f("fk_pair_reviews_ca_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["jp_profile_id"],
            ["profiles.id"],
            name=op.f("fk_pair_reviews_jp_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "status IN ('shortlisted', 'approved', 'rejected')",
            name=op.f("ck_pair_reviews_review_status"),
        ),
        sa.CheckConstraint(
            "reason_code IN ('off_topic', 'ineligible', 'conflict_of_interest', 'duplicate', 'other')",
            name=op.f("ck_pair_reviews_reason_code"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pair_reviews")),
        sa.UniqueConstraint(
            "jp_profile_id",
            "ca_profile_id",
            name=op.f("uq_pair_reviews_jp_profile_id_ca_profile_id"),
        ),
    )
    with op.batch_alter_table("pair_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pair_reviews_ca_profile_id"), ["ca_profile_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_pair_reviews_status"), ["status"], unique=False)

    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_match_id"))

    op.drop_table("reviews")
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retained", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_column("retained")

    op.create_table(
        "reviews",
        sa.Column("id", sa.INTEGER(), nullable=False),
        sa.Column("match_id", sa.INTEGER(), nullable=False),
        sa.Column("officer_id", sa.INTEGER(), nullable=True),
        sa.Column("decision", sa.VARCHAR(length=9), nullable=False),
        sa.Column("reason_code", sa.VARCHAR(length=20), nullable=True),
        sa.Column("note", sa.TEXT(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "decision IN ('approve', 'reject', 'shortlist', 'note')",
            name=op.f("ck_reviews_decision"),
        ),
        sa.CheckConstraint(
            "reason_code IN ('off_topic', 'ineligible', 'conflict_of_interest', 'duplicate', 'other')",
            name=op.f("ck_reviews_reason_code"),
        ),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["matches.id"],
            name=op.f("fk_reviews_match_id_matches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"],
            ["users.id"],
            name=op.f("fk_reviews_officer_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviews_match_id"), ["match_id"], unique=False)

    with op.batch_alter_table("pair_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pair_reviews_status"))
        batch_op.drop_index(batch_op.f("ix_pair_reviews_ca_profile_id"))

    op.drop_table("pair_reviews")
    with op.batch_alter_table("pair_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pair_decisions_jp_profile_id_ca_profile_id"))

    op.drop_table("pair_decisions")
    with op.batch_alter_table("call_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_proposals_jp_profile_id"))
        batch_op.drop_index(batch_op.f("ix_call_proposals_ca_profile_id"))

    op.drop_table("call_proposals")
    with op.batch_alter_table("officer_conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_officer_conflicts_organization_id"))

    op.drop_table("officer_conflicts")
    op.drop_table("grant_calls")
