"""The partner portal project: settings, URLs, the Celery app and cross-cutting checks."""

from .celery import app as celery_app

__all__ = ["celery_app"]
