"""Entry point for `celery -A workers.app worker|beat`: settings from the environment."""

from __future__ import annotations

from core.config import Settings
from workers import configure, create_celery

settings = Settings.from_env()
configure(settings)
celery_app = create_celery(settings)
