"""The outbound events' clock: one function, so tests of the 3-day and 5-day windows can move time forward."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
