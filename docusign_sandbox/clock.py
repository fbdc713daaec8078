"""The sandbox clock: real time plus an offset that tests move through /_sandbox/clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone


def now() -> datetime:
    from .models import SandboxControl

    return timezone.now() + timedelta(seconds=SandboxControl.get().clock_offset_seconds)


def iso(value: datetime | None) -> str | None:
    """DocuSign's date-time strings: ISO 8601 in UTC with a 'Z' and 7 fractional digits."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
