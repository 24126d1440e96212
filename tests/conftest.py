"""Shared fixtures: one migrated database with the demo world, one rolled-back transaction
per test.

The database is SQLite in a temporary folder unless GRANTMATCH_TEST_DATABASE_URL names a
PostgreSQL database (CI runs the suite both ways). Its schema is recreated at the start.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core import db, schema
from core.config import Settings
from core.services import demo, runs

TOP_K = 20


def database_url_for_tests(tmp_path: Path, name: str) -> str:
    """A fresh, empty database for ``name``: a SQLite file, or a PostgreSQL database."""
    base = os.environ.get("GRANTMATCH_TEST_DATABASE_URL", "").strip()
    if not base:
        return f"sqlite:///{tmp_path / (name + '.db')}"
    url = make_url(Settings.from_env({"GRANTMATCH_DATABASE_URL": base}).database_url)
    if name == "main":
        _reset_postgres_schema(url.render_as_string(hide_password=False))
        return url.render_as_string(hide_password=False)
    database = f"{url.database}_{name}"
    admin = db.make_engine(url.render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    return url.set(database=database).render_as_string(hide_password=False)


def _reset_postgres_schema(url: str) -> None:
    engine = db.make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    instance = tmp_path_factory.mktemp("instance")
    url = database_url_for_tests(instance, "main")
    return Settings(
        environment="test",
        instance_path=instance,
        database_url=url,
        secret_key="test-secret-key",
        match_top_k=TOP_K,
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    """The migrated test database holding the committed demo world and its live run."""
    bound = db.configure(settings.database_url)
    schema.upgrade(settings.database_url)
    with db.session_scope() as session:
        demo.seed_demo(session)
    with db.session_scope() as session:
        runs.run_full_rematch(session, top_k=settings.match_top_k)
    yield bound
    bound.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session in a transaction rolled back after the test; services' commits become
    savepoints, so views and tasks called by the test see the same data."""
    connection = engine.connect()
    transaction = connection.begin()
    db.SessionLocal.configure(bind=connection, join_transaction_mode="create_savepoint")
    session = db.SessionLocal()
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()
        db.SessionLocal.configure(bind=engine, join_transaction_mode="conditional_savepoint")


@pytest.fixture
def app(settings: Settings, session: Session) -> Flask:
    from web import create_app

    flask_app = create_app(settings)
    flask_app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return flask_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login(client: FlaskClient, email: str, password: str = demo.DEMO_PASSWORD) -> None:
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
