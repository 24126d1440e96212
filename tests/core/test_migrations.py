from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError

from core import db, schema
from core.models import Base
from tests.conftest import database_url_for_tests


@pytest.fixture
def empty_database(tmp_path: Path) -> str:
    return database_url_for_tests(tmp_path, "migrations")


def test_migrations_upgrade_to_the_models_and_downgrade_to_nothing(empty_database: str) -> None:
    engine = db.make_engine(empty_database)
    try:
        schema.upgrade(empty_database)
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert schema.is_current(engine, empty_database)
        schema.downgrade(empty_database, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        schema.upgrade(empty_database)  # and up again: downgrade left nothing behind
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migration_seeds_the_seven_moc_fields_in_three_languages(empty_database: str) -> None:
    schema.upgrade(empty_database)
    engine = db.make_engine(empty_database)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT code, label_en, label_ja, label_fr FROM fields ORDER BY position")
            ).all()
    finally:
        engine.dispose()
    assert [row.code for row in rows] == [
        "advanced_manufacturing",
        "artificial_intelligence",
        "clean_technology",
        "life_sciences",
        "quantum",
        "semiconductors",
        "other",
    ]
    assert rows[4].label_ja == "量子"
    assert rows[5].label_fr == "Semi-conducteurs"


def test_audit_events_are_append_only(empty_database: str) -> None:
    schema.upgrade(empty_database)
    engine = db.make_engine(empty_database)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO audit_events (occurred_at, action, subject_type, subject_id, "
                    "details) VALUES (CURRENT_TIMESTAMP, 'login', 'user', '1', '{}')"
                )
            )
        for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
                connection.execute(text(statement))
        with engine.connect() as connection:
            assert (
                connection.execute(
                    select(text("count(*)")).select_from(text("audit_events"))
                ).scalar()
                == 1
            )
    finally:
        engine.dispose()
