from __future__ import annotations

from pathlib import Path

import pytest

from core.config import DEFAULT_SECRET_KEY, Settings
from core.errors import ConfigError


def test_settings_default_to_sqlite_in_the_instance_folder(tmp_path: Path) -> None:
    settings = Settings.from_env({"GRANTMATCH_INSTANCE_PATH": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'grantmatch.db'}"
    assert not settings.uses_broker
    assert settings.environment == "development"


def test_settings_use_psycopg3_for_postgresql() -> None:
    settings = Settings.from_env({"GRANTMATCH_DATABASE_URL": "postgresql://u@db:5432/gm"})
    assert settings.database_url == "postgresql+psycopg://u@db:5432/gm"


def test_settings_accept_a_redis_broker() -> None:
    settings = Settings.from_env({"GRANTMATCH_BROKER_URL": "redis://127.0.0.1:6379/0"})
    assert settings.uses_broker


@pytest.mark.parametrize(
    ("environ", "setting"),
    [
        ({"GRANTMATCH_DATABASE_URL": "not a url"}, "GRANTMATCH_DATABASE_URL"),
        ({"GRANTMATCH_DATABASE_URL": "mysql://u@h/db"}, "GRANTMATCH_DATABASE_URL"),
        ({"GRANTMATCH_BROKER_URL": "amqp://guest@h//"}, "GRANTMATCH_BROKER_URL"),
        ({"GRANTMATCH_ENV": "staging"}, "GRANTMATCH_ENV"),
        ({"GRANTMATCH_ENV": "production"}, "GRANTMATCH_SECRET_KEY"),
        (
            {"GRANTMATCH_ENV": "production", "GRANTMATCH_SECRET_KEY": DEFAULT_SECRET_KEY},
            "GRANTMATCH_SECRET_KEY",
        ),
        ({"GRANTMATCH_MATCH_TOP_K": "many"}, "GRANTMATCH_MATCH_TOP_K"),
        ({"GRANTMATCH_MATCH_TOP_K": "0"}, "GRANTMATCH_MATCH_TOP_K"),
        ({"GRANTMATCH_WORKER_NICE": "20"}, "GRANTMATCH_WORKER_NICE"),
        ({"GRANTMATCH_WORKER_NICE": "-5"}, "GRANTMATCH_WORKER_NICE"),
    ],
)
def test_settings_name_the_bad_setting_in_one_line(environ: dict[str, str], setting: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(environ)
    message = str(raised.value)
    assert message.startswith(setting)
    assert "\n" not in message


def test_workers_yield_the_cpu_by_default_and_can_be_told_not_to() -> None:
    assert Settings.from_env({}).worker_nice == 10
    assert Settings.from_env({"GRANTMATCH_WORKER_NICE": "0"}).worker_nice == 0
    assert Settings.from_env({"GRANTMATCH_WORKER_NICE": "19"}).worker_nice == 19


def test_production_accepts_a_real_secret() -> None:
    settings = Settings.from_env(
        {"GRANTMATCH_ENV": "production", "GRANTMATCH_SECRET_KEY": "x" * 64}
    )
    assert settings.is_production
