"""Settings, read from the environment in exactly one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.errors import ConfigError

DEFAULT_SECRET_KEY = "dev-only-secret-change-me"
ENVIRONMENTS = ("development", "production", "test")
SUPPORTED_DATABASES = ("sqlite", "postgresql")


def _default_instance_path() -> Path:
    return Path.cwd() / "instance"


@dataclass(frozen=True)
class Settings:
    """Everything the service can be configured with. Build it with :meth:`from_env`."""

    environment: str = "development"
    instance_path: Path = field(default_factory=_default_instance_path)
    database_url: str = ""
    broker_url: str | None = None
    secret_key: str = DEFAULT_SECRET_KEY
    match_top_k: int = 20
    match_block_size: int = 2048
    run_retention_days: int = 30
    host: str = "127.0.0.1"
    port: int = 5000
    # Seconds before Redis hands an unacknowledged task (its worker died) to another worker.
    task_visibility_timeout: int = 3600
    # CPU priority of Celery workers (Unix nice, 0-19): a full rematch is throughput work
    # and yields the processor to the web app when both run on one machine; 0 for none.
    worker_nice: int = 10
    # Outgoing mail: SMTP when set (smtp://user:password@host:587, smtps://... for TLS),
    # else every message is written to the instance's mail folder.
    smtp_url: str | None = None
    mail_sender: str = "Japan–Canada Partner Matching <no-reply@grantmatch.example>"
    # Where links in emails point (the address people reach the web app at).
    base_url: str = "http://127.0.0.1:5000"

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(
                self, "database_url", f"sqlite:///{self.instance_path / 'grantmatch.db'}"
            )

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def uses_broker(self) -> bool:
        """True when background tasks go to Celery workers instead of running in-process."""
        return self.broker_url is not None

    @property
    def mail_path(self) -> Path:
        return self.instance_path / "mail"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate GRANTMATCH_* variables; raise ConfigError naming the bad one."""
        env = os.environ if environ is None else environ

        environment = env.get("GRANTMATCH_ENV", "development").strip() or "development"
        if environment not in ENVIRONMENTS:
            raise ConfigError(
                f"GRANTMATCH_ENV: expected one of {', '.join(ENVIRONMENTS)}, got {environment!r}"
            )

        instance_path = Path(env.get("GRANTMATCH_INSTANCE_PATH", "") or _default_instance_path())
        instance_path = instance_path.resolve()

        database_url = env.get("GRANTMATCH_DATABASE_URL", "").strip()
        if database_url:
            database_url = _normalise_database_url(database_url)

        broker_url = env.get("GRANTMATCH_BROKER_URL", "").strip() or None
        if broker_url is not None and not broker_url.startswith(("redis://", "rediss://")):
            raise ConfigError(
                "GRANTMATCH_BROKER_URL: expected a Redis URL such as redis://127.0.0.1:6379/0, "
                f"got {broker_url!r}"
            )

        secret_key = env.get("GRANTMATCH_SECRET_KEY", "").strip()
        if environment == "production" and (not secret_key or secret_key == DEFAULT_SECRET_KEY):
            raise ConfigError(
                "GRANTMATCH_SECRET_KEY: must be set to a long random value in production "
                "(for example: python -c 'import secrets; print(secrets.token_hex(32))')"
            )

        return cls(
            environment=environment,
            instance_path=instance_path,
            database_url=database_url,
            broker_url=broker_url,
            secret_key=secret_key or DEFAULT_SECRET_KEY,
            match_top_k=_positive_int(env, "GRANTMATCH_MATCH_TOP_K", 20),
            match_block_size=_positive_int(env, "GRANTMATCH_MATCH_BLOCK_SIZE", 2048),
            run_retention_days=_positive_int(env, "GRANTMATCH_RUN_RETENTION_DAYS", 30),
            host=env.get("GRANTMATCH_HOST", "127.0.0.1"),
            port=_positive_int(env, "GRANTMATCH_PORT", 5000),
            task_visibility_timeout=_positive_int(env, "GRANTMATCH_TASK_VISIBILITY_TIMEOUT", 3600),
            worker_nice=_nice(env),
            smtp_url=_smtp_url(env),
            mail_sender=env.get("GRANTMATCH_MAIL_SENDER", "").strip() or cls.mail_sender,
            base_url=_base_url(env),
        )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name}: must be positive, got {value}")
    return value


def _nice(env: Mapping[str, str]) -> int:
    raw = env.get("GRANTMATCH_WORKER_NICE", "").strip()
    if not raw:
        return Settings.worker_nice
    if not raw.isdigit() or int(raw) > 19:
        raise ConfigError(
            f"GRANTMATCH_WORKER_NICE: expected a whole number from 0 to 19, got {raw!r}"
        )
    return int(raw)


def _smtp_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("GRANTMATCH_SMTP_URL", "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(
            "GRANTMATCH_SMTP_URL: expected smtp://user:password@host:587 or smtps://host:465, "
            f"got {parts.scheme or 'no'} scheme"
        )
    return raw


def _base_url(env: Mapping[str, str]) -> str:
    raw = env.get("GRANTMATCH_BASE_URL", "").strip().rstrip("/")
    if not raw:
        port = env.get("GRANTMATCH_PORT", "").strip() or "5000"
        return f"http://127.0.0.1:{port}"
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            "GRANTMATCH_BASE_URL: expected an address such as https://match.example.org, "
            f"got {raw!r}"
        )
    return raw


def _normalise_database_url(raw: str) -> str:
    """Check the URL parses and names a supported database; use psycopg 3 for PostgreSQL."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            "GRANTMATCH_DATABASE_URL: not a database URL (expected e.g. "
            "postgresql://user@host:5432/db or sqlite:///path/to/file.db)"
        ) from None
    backend = url.get_backend_name()
    if backend not in SUPPORTED_DATABASES:
        raise ConfigError(
            f"GRANTMATCH_DATABASE_URL: unsupported database {backend!r} "
            f"(supported: {', '.join(SUPPORTED_DATABASES)})"
        )
    if backend == "postgresql" and url.get_driver_name() in ("psycopg2", "psycopg", ""):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)
