"""The Celery app. Settings come from Django's settings under the `CELERY_` prefix."""

import os
import sys
from typing import Any

from celery import Celery, Task
from celery.signals import worker_init
from django.db import DatabaseError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


class PortalTask(Task):
    """Every task of the portal: a transient database error (SQLite's "database is locked", PostgreSQL's serialization
    failure or deadlock) is retried through the one classifier, `background.task_retry`, instead of failing
    the task for good; any other error is left to the task, and to the dead letters."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except DatabaseError as exc:
            from background import task_retry

            task_retry.retry_or_raise(self, exc)


app = Celery("portal", task_cls=PortalTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# docusign_integration keeps each capability's tasks beside it (docusign_integration/<capability>/tasks.py).
app.autodiscover_tasks(lambda: [f"docusign_integration.{name}" for name in _capabilities()])


def _capabilities() -> tuple[str, ...]:
    from docusign_integration import CAPABILITIES

    return CAPABILITIES


@worker_init.connect
def _refuse_to_start_without_encryption_keys(**kwargs: object) -> None:
    """Fail closed: a worker without usable encryption keys, or without a key that stored secrets were encrypted with,
    must not start (it would fail on every read of those secrets; docs/security.md TS-2)."""
    from django.core.exceptions import ImproperlyConfigured

    from docusign_integration.keys.stored_keys import validate_keys_at_start

    try:
        validate_keys_at_start()
    except ImproperlyConfigured as exc:
        # Celery logs and swallows an Exception from a signal handler; SystemExit really stops the worker.
        sys.stderr.write(f"ImproperlyConfigured: {exc}\n")
        raise SystemExit(1) from exc
