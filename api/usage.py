"""Recent API use per key (calls, errors per hour) for the organization's health page, counted cheaply.

A request only adds to a counter in this process's memory (a lock held for a dict update); at most every
FLUSH_SECONDS a process adds its counts to `ApiKeyUsage`, one row per key and hour, with `F()` increments. So
traffic never waits on a per-request write (which would serialize every call of a key on one row), and the table
stays compact (24 rows a day per active key). A process that dies loses at most FLUSH_SECONDS of counts: the page
shows recent use, not billing.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from .models import ApiKeyUsage, OrganizationAPIKey

FLUSH_SECONDS = 10.0

_lock = threading.Lock()
_pending: defaultdict[tuple[str, datetime], list[int]] = defaultdict(lambda: [0, 0])
_last_flush = time.monotonic()


def count(api_key_id: str, *, error: bool) -> None:
    """Count one call of the key (an error when its answer was 4xx or 5xx); flush when the interval has passed."""
    global _last_flush
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    with _lock:
        counts = _pending[(api_key_id, hour)]
        counts[0] += 1
        counts[1] += int(error)
        due = time.monotonic() - _last_flush >= FLUSH_SECONDS
        if due:
            _last_flush = time.monotonic()
    if due:
        flush()


def forget() -> None:
    """Drop this process's pending counts and restart the interval (tests: one test's counts stay out of the next)."""
    global _last_flush
    with _lock:
        _pending.clear()
        _last_flush = time.monotonic()


def flush() -> None:
    """Add this process's pending counts to the table (one UPDATE, or an INSERT, per key and hour)."""
    with _lock:
        taken = dict(_pending)
        _pending.clear()
    for (api_key_id, hour), (calls, errors) in taken.items():
        _add(api_key_id, hour, calls, errors)


def _add(api_key_id: str, hour: datetime, calls: int, errors: int) -> None:
    rows = ApiKeyUsage.objects.filter(api_key_id=api_key_id, hour=hour)
    if rows.update(calls=F("calls") + calls, errors=F("errors") + errors):
        return
    try:
        with transaction.atomic():
            ApiKeyUsage.objects.create(api_key_id=api_key_id, hour=hour, calls=calls, errors=errors)
    except IntegrityError:  # another process inserted the hour's row first
        rows.update(calls=F("calls") + calls, errors=F("errors") + errors)


def recent_use(organization_id: int, *, hours: int = 24) -> list[dict[str, object]]:
    """Each key of the organization with its calls and errors over the last `hours` (one query)."""
    recent = Q(usage__hour__gte=(timezone.now() - timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0))
    keys = (OrganizationAPIKey.objects.filter(organization_id=organization_id).order_by("-created")
            .annotate(recent_calls=Sum("usage__calls", filter=recent), recent_errors=Sum("usage__errors", filter=recent)))
    return [{"prefix": k.prefix, "name": k.name, "revoked": k.revoked, "expiry_date": k.expiry_date,
             "calls": k.recent_calls or 0, "errors": k.recent_errors or 0} for k in keys]

