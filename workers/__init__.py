"""Celery adapter: tasks that own their unit of work and call one service each."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_init, worker_process_init

from core import db
from core.config import Settings

_settings: Settings | None = None


def configure(settings: Settings) -> None:
    """Give the tasks their settings (top-k ...) and bind the session factory."""
    global _settings
    _settings = settings
    db.configure(settings.database_url)


def current_settings() -> Settings:
    """The settings given to :func:`configure`; read from the environment otherwise."""
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def create_celery(settings: Settings) -> Celery:
    """A Celery app on the configured Redis broker, with the service's task defaults."""
    app = Celery(
        "grantmatch",
        broker=settings.broker_url,
        include=["workers.tasks", "workers.dispatch", "workers.mail"],
    )
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.task_visibility_timeout,
            # A web request that publishes while Redis is down must fail fast (the outbox
            # keeps the request and the beat dispatcher sends it later), not retry for
            # seconds; workers reconnect by broker_connection_retry, not by this.
            "max_retries": 0,
            "socket_connect_timeout": 2,
        },
        beat_schedule={
            "dispatch-rematch-requests": {"task": "outbox.dispatch", "schedule": 5.0},
            "deliver-mail": {"task": "mail.deliver", "schedule": 10.0},
            # Hourly: each registrant's digest goes out once its day or week has passed.
            "send-digests": {"task": "mail.send_digests", "schedule": crontab(minute=15)},
            "nightly-full-rematch": {
                "task": "matching.full_rematch",
                # 03:00 UTC: 12:00 in Tokyo, 23:00 in Ottawa (summer time).
                "schedule": crontab(hour=3, minute=0),
            },
            # A full run whose messages Redis lost (restarted without its data) is sent
            # again once it has been still for longer than the visibility timeout.
            "resume-stalled-run": {
                "task": "matching.resume_stalled_run",
                "schedule": float(settings.task_visibility_timeout),
            },
            "daily-prune-runs": {
                "task": "matching.prune_runs",
                "schedule": crontab(hour=4, minute=0),
            },
        },
        timezone="UTC",
    )
    app.set_default()
    return app


@worker_init.connect
def _lower_cpu_priority(**_kwargs: Any) -> None:
    # Before the pool starts: its processes and their threads (numba's) inherit it.
    increment = current_settings().worker_nice
    if increment:
        os.nice(increment)


@worker_process_init.connect
def _dispose_pool_after_fork(**_kwargs: Any) -> None:
    # A forked worker child must not share the parent's database connections.
    db.dispose_pool()
