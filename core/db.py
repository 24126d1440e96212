"""The one place that makes database engines and sessions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import ConfigError

SessionLocal = sessionmaker(expire_on_commit=False)
_engine: Engine | None = None


def _enable_sqlite_integrity(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling skips BEGIN before DDL and breaks
    # SAVEPOINT; let SQLAlchemy emit BEGIN itself (see _begin_sqlite).
    dbapi_connection.isolation_level = None
    # SQLite ignores foreign keys unless asked on every connection; WAL lets the
    # web process read while a rematch writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` with the service's connection settings."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _enable_sqlite_integrity)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def configure(url: str) -> Engine:
    """Bind the session factory to an engine for ``url``; a different URL replaces the old one."""
    global _engine
    if _engine is not None:
        if _engine.url.render_as_string(hide_password=False) == url:
            return _engine  # already bound here (the app and the CLI may both ask)
        _engine.dispose()
    _engine = make_engine(url)
    SessionLocal.configure(bind=_engine)
    return _engine


def get_engine() -> Engine:
    """The configured engine; raises if :func:`configure` has not been called."""
    if _engine is None:
        raise RuntimeError("core.db.configure() has not been called")
    return _engine


def dispose_pool() -> None:
    """Drop pooled connections (after a fork, the child must not reuse the parent's)."""
    if _engine is not None:
        _engine.dispose(close=False)


def check_connection(engine: Engine) -> None:
    """Raise ConfigError naming GRANTMATCH_DATABASE_URL when the database cannot be reached."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        where = engine.url.render_as_string(hide_password=True)
        raise ConfigError(f"GRANTMATCH_DATABASE_URL: cannot connect to {where}: {reason}") from None


@contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error, always close."""
    with SessionLocal.begin() as session:
        yield session
