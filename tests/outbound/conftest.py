from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from outbound_events import clock, services, tasks
from tests import factories

from .receiver import Receiver


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


@dataclass
class Runner:
    """Runs the queued delivery tasks in-process, in queue order, moving a settable clock to each task's countdown."""

    now: datetime = field(default_factory=timezone.now)
    queue: list[tuple[int, datetime]] = field(default_factory=list)
    outcomes: list[tuple[int, str]] = field(default_factory=list)

    def enqueue(self, delivery_id: int, countdown: float | None = None) -> None:
        self.queue.append((delivery_id, self.now + timedelta(seconds=countdown or 0)))

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def run(self, limit: int | None = None) -> list[tuple[int, str]]:
        """Run queued tasks until none is left (or `limit` tasks); the clock never runs behind the real one."""
        for _ in range(limit or 500):
            if not self.queue:
                return self.outcomes
            self.queue.sort(key=lambda item: item[1])
            delivery_id, due = self.queue.pop(0)
            self.now = max(self.now, due, timezone.now())
            self.outcomes.append((delivery_id, tasks.deliver(delivery_id)))
        if limit is None:
            raise AssertionError("the deliveries did not settle")
        return self.outcomes


@pytest.fixture
def runner(monkeypatch, settings):
    settings.OUTBOUND_EVENTS_ALLOW_LOOPBACK = True
    settings.OUTBOUND_EVENTS_CONNECT_TIMEOUT = 0.5
    settings.OUTBOUND_EVENTS_READ_TIMEOUT = 0.5
    running = Runner()
    monkeypatch.setattr(clock, "now", lambda: running.now)
    monkeypatch.setattr(tasks, "enqueue_delivery", running.enqueue)
    return running


@pytest.fixture
def organization(db):
    return factories.organization("Acme")


@pytest.fixture
def endpoint(organization, receiver, settings):
    settings.OUTBOUND_EVENTS_ALLOW_LOOPBACK = True
    created, secret = services.endpoint_create(acting_user=None, organization=organization, url=receiver.url)
    created.test_secret = secret
    return created
