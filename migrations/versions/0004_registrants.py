"""Registrants: consent history, interests, introductions, the mail outbox, digests.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _choice(table: str, column: str, name: str, values: Sequence[str]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(f"ck_{table}_{name}"))


def _profile_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["profiles.id"], name=op.f(f"fk_{table}_{column}_profiles"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "outgoing_emails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(254), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("locale", sa.String(2), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(7), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        _choice("outgoing_emails", "locale", "locale", ["en", "ja", "fr"]),
        _choice("outgoing_emails", "status", "email_status", ["pending", "sent", "failed"]),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_emails")),
    )
    op.create_index(op.f("ix_outgoing_emails_status_id"), "outgoing_emails", ["status", "id"])
    op.create_index(op.f("ix_outgoing_emails_user_id"), "outgoing_emails", ["user_id"])

    op.create_table(
        "consent_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(9), nullable=False),
        sa.Column("notice_version", sa.String(40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        _choice("consent_events", "action", "consent_action", ["given", "withdrawn"]),
        _profile_fk("consent_events", "profile_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
    )
    op.create_index(op.f("ix_consent_events_profile_id"), "consent_events", ["profile_id"])

    op.create_table(
        "interests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("partner_profile_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("reason_code", sa.String(18), nullable=True),
        sa.Column("reason_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _choice("interests", "state", "interest_state", ["interested", "not_now", "saved"]),
        _choice(
            "interests",
            "reason_code",
            "decline_reason",
            ["off_topic", "not_the_right_time", "no_capacity", "already_in_contact", "other"],
        ),
        _profile_fk("interests", "profile_id"),
        _profile_fk("interests", "partner_profile_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interests")),
        sa.UniqueConstraint(
            "profile_id",
            "partner_profile_id",
            name=op.f("uq_interests_profile_id_partner_profile_id"),
        ),
    )
    op.create_index(op.f("ix_interests_partner_profile_id"), "interests", ["partner_profile_id"])

    op.create_table(
        "introductions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jp_profile_id", sa.Integer(), nullable=False),
        sa.Column("ca_profile_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(17), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("introduced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        _choice(
            "introductions", "status", "introduction_status", ["awaiting_approval", "introduced"]
        ),
        _profile_fk("introductions", "jp_profile_id"),
        _profile_fk("introductions", "ca_profile_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_introductions")),
        sa.UniqueConstraint(
            "jp_profile_id",
            "ca_profile_id",
            name=op.f("uq_introductions_jp_profile_id_ca_profile_id"),
        ),
    )
    op.create_index(op.f("ix_introductions_ca_profile_id"), "introductions", ["ca_profile_id"])

    # Existing pairs were first proposed when their row was written.
    with op.batch_alter_table("matches") as batch:
        batch.add_column(sa.Column("first_proposed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE matches SET first_proposed_at = created_at")
    with op.batch_alter_table("matches") as batch:
        batch.alter_column(
            "first_proposed_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )

    with op.batch_alter_table("profiles") as batch:
        batch.add_column(sa.Column("orcid", sa.String(19), nullable=True))

    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("digest_frequency", sa.String(6), server_default="weekly", nullable=False)
        )
        batch.add_column(sa.Column("last_digest_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("matches_seen_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_check_constraint(
            "digest_frequency", "digest_frequency IN ('daily', 'weekly', 'never')"
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("digest_frequency", type_="check")
        batch.drop_column("matches_seen_at")
        batch.drop_column("last_digest_at")
        batch.drop_column("digest_frequency")
    with op.batch_alter_table("profiles") as batch:
        batch.drop_column("orcid")
    with op.batch_alter_table("matches") as batch:
        batch.drop_column("first_proposed_at")
    op.drop_table("introductions")
    op.drop_table("interests")
    op.drop_table("consent_events")
    op.drop_table("outgoing_emails")
