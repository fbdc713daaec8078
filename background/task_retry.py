"""How a Celery task answers a DocuSign failure (docs/security.md BG-1): retry, defer, or fail for good.

One decision for every task, from the exception class `http.call` chose:
- a rate limit (429, or the hourly limit DocuSign sends as 400) defers until DocuSign's reset (`reset_at`, which
  `http` took from Retry-After or X-RateLimit-Reset, else 30 s), plus a little jitter so deferred tasks do not all
  come back in the same second;
- a transient error (5xx, a reset connection, a timeout: `retryable`) retries with exponential back-off and full
  jitter, capped at BACKOFF_MAX;
- a transient database error (SQLite's "database is locked", PostgreSQL's serialization failure, deadlock or lock
  timeout: `is_transient_database_error`) retries the same way from a shorter base: the other transaction ends soon;
- everything else (401 after its one refresh in `sending`, not found, not a member, no permission, a malformed
  answer, any non-DocuSign exception) is permanent: retrying cannot help, a person must look (the dead letter).

Every countdown stays below the broker's visibility timeout (settings: 3600 s), so a waiting task is never
redelivered while it waits (docs/security.md BG-3).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NoReturn

from celery import Task
from django.db import OperationalError
from django.utils import timezone

from docusign_integration.client import errors

BACKOFF_BASE = 30  # seconds for the first retry; doubles with each retry
BACKOFF_MAX = 600  # docs/security.md BG-1: retry_backoff_max <= 600 s
# The longest a rate-limited task waits in one go. DocuSign's hourly window resets within 3,600 s, so a task defers
# at most twice and keeps its other retries for real failures. It must stay below the Redis broker's visibility
# timeout (a message waiting longer is delivered again): system check docusign.E010 enforces that.
DEFER_MAX = 3000
RATE_LIMIT_FALLBACK = 30  # seconds, when DocuSign named no reset (its burst window)
DATABASE_BACKOFF_BASE = 2  # seconds for the first retry after a transient database error
# SQLite's messages for a lock another connection held past the busy timeout (SQLITE_BUSY, SQLITE_LOCKED).
SQLITE_TRANSIENT = ("database is locked", "database table is locked")
# PostgreSQL's SQLSTATEs of a transaction that lost to another and may succeed as it is when run again:
# serialization_failure, deadlock_detected, lock_not_available (lock_timeout).
POSTGRES_TRANSIENT = frozenset({"40001", "40P01", "55P03"})


class Action(StrEnum):
    RETRY = "retry"  # transient: back off and try again
    DEFER = "defer"  # rate limited: come back after the reset
    FAIL = "fail"  # permanent: do not retry


@dataclass(frozen=True)
class Decision:
    """What a task does about one exception; `countdown` is in seconds (None when it fails)."""

    action: Action
    countdown: float | None = None

    @property
    def fails(self) -> bool:
        return self.action is Action.FAIL


def backoff(retries: int, base: float = BACKOFF_BASE) -> float:
    """Full jitter: uniform(0, min(BACKOFF_MAX, base * 2**retries)), so an outage's retries spread out."""
    return random.uniform(0, min(BACKOFF_MAX, base * 2 ** max(0, retries)))


def until_reset(reset_at: datetime | None, now: datetime | None = None) -> float:
    """Seconds until a rate limit resets (rounded up, at least 1) plus jitter, capped at DEFER_MAX.

    The jitter is up to 5 s, or a tenth of the wait when that is longer (at most 30 s): tasks deferred to an
    hourly reset spread over half a minute instead of spending the new hour's budget in one burst.
    """
    now = now or timezone.now()
    wait = (reset_at - now).total_seconds() if reset_at is not None else RATE_LIMIT_FALLBACK
    wait = max(1, math.ceil(wait))
    return min(DEFER_MAX, wait + random.uniform(0, min(30.0, max(5.0, wait / 10))))


def is_transient_database_error(exc: BaseException) -> bool:
    """True for a database error that only says another transaction was in the way (Django's OperationalError wraps
    the driver's: its `__cause__` carries the SQLSTATE on PostgreSQL); not for a missing table, a constraint, ..."""
    if not isinstance(exc, OperationalError):
        return False
    if getattr(exc.__cause__, "sqlstate", None) in POSTGRES_TRANSIENT:
        return True
    return str(exc).startswith(SQLITE_TRANSIENT)


def classify(exc: BaseException, retries: int, *, base: float = BACKOFF_BASE) -> Decision:
    """The decision for `exc` raised on a task's try number `retries + 1`."""
    if isinstance(exc, errors.RateLimited):
        return Decision(Action.DEFER, until_reset(getattr(exc, "reset_at", None)))
    if isinstance(exc, errors.DocuSignError) and exc.retryable:
        return Decision(Action.RETRY, backoff(retries, base))
    if is_transient_database_error(exc):
        return Decision(Action.RETRY, backoff(retries, DATABASE_BACKOFF_BASE))
    return Decision(Action.FAIL)


def retry_if_temporary(task: Task, exc: Exception, *, base: float = BACKOFF_BASE) -> None:
    """Raise the task's Retry when `exc` is a rate limit or transient; return (doing nothing) when it is permanent.

    Once the task's `max_retries` are spent, Celery re-raises `exc` itself: the task fails for good and
    `background.task_failures` writes the dead letter.
    """
    decision = classify(exc, task.request.retries or 0, base=base)
    if not decision.fails:
        raise task.retry(exc=exc, countdown=decision.countdown) from exc


def retry_or_raise(task: Task, exc: Exception, *, base: float = BACKOFF_BASE) -> NoReturn:
    """Retry a rate limit or a transient error (see `classify`); re-raise a permanent one, failing the task."""
    retry_if_temporary(task, exc, base=base)
    raise exc
