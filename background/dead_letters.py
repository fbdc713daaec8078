"""Dead letters: record a task that failed for good, and the staff operations on them (retry, mark resolved).

A dead letter keeps what a person needs to act and nothing a leak could use: the task's name, its id arguments
(anything else becomes a placeholder), the exception class and a short scrubbed message. The same call failing
again updates its open row (a count), so a failing beat task cannot grow the table without bound. Writing a dead
letter logs at ERROR and mails ADMINS (`background.task_failures.alert`), at most once per task per ALERT_WINDOW.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from datetime import timedelta
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from celery import Task
from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from background.errors import SecretScrubbingFilter
from background.models import NOT_AN_ID, FailedTask
from tenants import audit

logger = logging.getLogger("background.dead_letters")

ALERT_WINDOW = timedelta(minutes=10)  # at most one mail per task name in this window
MAX_LIST_IDS = 500  # a list argument longer than this is not kept (process_connect_events sends at most 100)
MESSAGE_MAX = 300
MASK = "********"

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/@\s'\"<>]+@")
_AUTHORIZATION = re.compile(r"(?i)\b(bearer|basic)\s+[^\s'\"<>]+")
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)\b([\w\-]*(?:token|secret|passw\w*|pwd|key|assertion|signature|code|authorization|cookie)[\w\-]*)"
    r"([\"']?\s*[=:]\s*[\"']?)([^\s,;&\"'<>]+)")
_OPAQUE = re.compile(r"[A-Za-z0-9+/_=.\-]{24,}")  # token-like runs of characters (GUIDs are kept)


class CannotRetry(Exception):
    """The dead letter cannot be queued again as it was (an argument was not kept, or the task no longer exists)."""


def safe_argument(value: object) -> object:
    """`value` when it is an id (an int, a GUID string, None, a list of ints); otherwise NOT_AN_ID, never the value."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and _GUID.fullmatch(value):
        return value
    if (isinstance(value, list | tuple) and len(value) <= MAX_LIST_IDS
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        return list(value)
    return NOT_AN_ID


def safe_arguments(args: object, kwargs: object) -> tuple[list, dict]:
    """A task's arguments as a dead letter keeps them: ids only, keyword names only when they are identifiers."""
    kept_args = [safe_argument(v) for v in args] if isinstance(args, list | tuple) else [NOT_AN_ID]
    kept_kwargs = {}
    if isinstance(kwargs, dict):
        for name, value in kwargs.items():
            key = name if isinstance(name, str) and name.isidentifier() and len(name) <= 64 else NOT_AN_ID
            kept_kwargs[key] = safe_argument(value)
    return kept_args, kept_kwargs


def _known_secrets() -> list[str]:
    """Values of settings whose names say they are secret, and the passwords inside connection-string settings."""
    found = []
    for name in dir(settings):
        if not name.isupper() or not SecretScrubbingFilter.hidden_settings.search(name):
            continue
        value = getattr(settings, name, None)
        if not isinstance(value, str) or not value:
            continue
        if "://" in value:  # a connection string: its password is the secret, the host helps whoever reads
            try:
                value = urlsplit(value).password or ""
            except ValueError:
                continue
        if len(value) >= 6:
            found.append(value)
    return sorted(set(found), key=len, reverse=True)


def scrub_report(text: str) -> str:
    """`text` without the secrets a report could carry: settings' secret values, URL credentials, Authorization."""
    for secret in _known_secrets():
        text = text.replace(secret, MASK)
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    return _AUTHORIZATION.sub(lambda m: f"{m.group(1)} {MASK}", text)


def scrub_message(text: str) -> str:
    """A short exception text safe to store and show: `scrub_report`, then `name=value` secrets and token-like runs."""
    text = scrub_report(text)
    text = _SECRET_ASSIGNMENT.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _OPAQUE.sub(lambda m: m.group(0) if _GUID.fullmatch(m.group(0)) else MASK, text)
    return text[:MESSAGE_MAX]


def failure_message(exc: BaseException) -> str:
    """DocuSign's user-facing sentence for a DocuSignError (never a response body); else the scrubbed exception text."""
    from docusign_integration.client.errors import DocuSignError

    if isinstance(exc, DocuSignError):
        return exc.user_message[:MESSAGE_MAX]
    return scrub_message(str(exc))


def _digest(args: list, kwargs: dict) -> str:
    return hashlib.sha256(json.dumps([args, kwargs], sort_keys=True).encode()).hexdigest()


def dead_letter_write(*, task_name: str, task_id: str, args: object, kwargs: object, exc: BaseException,
                      retries: int, traceback: TracebackType | None = None) -> FailedTask | None:
    """Record that a task call failed for good, log it at ERROR and alert ADMINS; returns the row.

    The same call (task name + arguments) with an open row updates that row; the same task id reported again
    (a redelivered message that fails once more) is not counted twice. None when the row could not be written.
    """
    from background.task_failures import alert

    kept_args, kept_kwargs = safe_arguments(args, kwargs)
    digest = _digest(kept_args, kept_kwargs)
    now = timezone.now()
    fields = {"task_id": str(task_id or "")[:64], "exception_class": f"{type(exc).__module__}.{type(exc).__qualname__}"[:200],
              "error_code": str(getattr(exc, "error_code", "") or "")[:100], "message": failure_message(exc),
              "retries": max(0, int(retries or 0)), "last_failed_at": now}
    for _attempt in range(2):  # a concurrent first failure of the same call wins the insert; then update its row
        try:
            with transaction.atomic():
                row = (FailedTask.objects.select_for_update()
                       .filter(task_name=task_name, call_digest=digest, resolved=False).first())
                if row is not None and task_id and row.task_id == fields["task_id"]:
                    return row
                if row is None:
                    row = FailedTask.objects.create(task_name=task_name, call_digest=digest, args=kept_args,
                                                    kwargs=kept_kwargs, first_failed_at=now, **fields)
                else:
                    for name, value in fields.items():
                        setattr(row, name, value)
                    row.failure_count += 1
                    row.save()
                send = not FailedTask.objects.filter(task_name=task_name, alerted_at__gte=now - ALERT_WINDOW).exists()
                if send:
                    FailedTask.objects.filter(pk=row.pk).update(alerted_at=now)
            break
        except IntegrityError:
            continue
    else:
        return None
    logger.error("task_failed task=%s task_id=%s args=%s kwargs=%s exception=%s error_code=%s retries=%d "
                 "failures=%d message=%s", task_name, row.task_id, json.dumps(row.args), json.dumps(row.kwargs),
                 row.exception_class, row.error_code or "-", row.retries, row.failure_count, row.message)
    if send:
        alert(row, exc, traceback)
    return row


def dead_letter_record(task: Task, exc: BaseException) -> FailedTask | None:
    """From inside a task: record a permanent failure the task handles itself (it returns instead of raising)."""
    request = task.request
    return dead_letter_write(task_name=task.name, task_id=request.id or str(uuid.uuid4()), args=request.args or [],
                             kwargs=request.kwargs or {}, exc=exc, retries=request.retries or 0,
                             traceback=exc.__traceback__)


def dead_letter_resolve_after_success(*, task_name: str, args: object, kwargs: object) -> bool:
    """Close the open dead letter of a call that has now succeeded (the next beat run, the sweeper, an admin retry).

    One indexed lookup per successful task (the partial unique index on open rows); audited when it closes one.
    A call whose arguments were not all kept is never matched: another call may share its placeholders.
    """
    kept_args, kept_kwargs = safe_arguments(args, kwargs)
    if NOT_AN_ID in json.dumps([kept_args, kept_kwargs]):
        return False
    with transaction.atomic():
        row = (FailedTask.objects.select_for_update()
               .filter(task_name=task_name, call_digest=_digest(kept_args, kept_kwargs), resolved=False).first())
        if row is None:
            return False
        _resolve(row, acting_user=None, resolution="succeeded")
    return True


def _resolve(failed_task: FailedTask, *, acting_user: User | None, resolution: str) -> FailedTask:
    row = FailedTask.objects.select_for_update().get(pk=failed_task.pk)
    before = audit.snapshot(row, ("resolved", "resolution"))
    row.resolved, row.resolution, row.resolved_at = True, resolution, timezone.now()
    row.resolved_by = acting_user
    row.save(update_fields=["resolved", "resolution", "resolved_at", "resolved_by"])
    audit.record(actor=acting_user, action=f"task.dead_letter.{resolution}", organization=None, target=row,
                 before=before, after={**audit.snapshot(row, ("resolved", "resolution", "task_name", "args", "kwargs")),
                                       "failed_task_id": row.pk})
    return row


@transaction.atomic
def failed_task_resolve(*, acting_user: User | None, failed_task: FailedTask) -> bool:
    """Mark a dead letter resolved (a person dealt with it); False when it already was."""
    if FailedTask.objects.filter(pk=failed_task.pk, resolved=True).exists():
        return False
    _resolve(failed_task, acting_user=acting_user, resolution="resolved")
    return True


@transaction.atomic
def failed_task_retry(*, acting_user: User | None, failed_task: FailedTask) -> bool:
    """Queue the failed call again with its stored ids (after commit) and mark it resolved; False when already resolved.

    Raises CannotRetry when an argument was not kept or the task is not known to Celery any more.
    """
    if FailedTask.objects.filter(pk=failed_task.pk, resolved=True).exists():
        return False
    if not failed_task.can_retry:
        raise CannotRetry(f"Dead letter {failed_task.pk} cannot be retried: an argument was not an id and was not kept.")
    task = _registered_task(failed_task.task_name)
    row = _resolve(failed_task, acting_user=acting_user, resolution="retried")
    args, kwargs = tuple(row.args), dict(row.kwargs)
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs))
    return True


def _registered_task(name: str) -> Task:
    from portal.celery import app

    app.loader.import_default_modules()  # CELERY_IMPORTS: the web process has not loaded every tasks module
    task = app.tasks.get(name)
    if task is None:
        raise CannotRetry(f"There is no task named {name} any more; it cannot be queued again.")
    return task


def unresolved() -> Any:
    """Open dead letters, the most recent failure first."""
    return FailedTask.objects.filter(resolved=False).select_related("resolved_by").order_by("-last_failed_at", "-pk")
