"""Handing stored events to Celery: each committed event is published once, batched under load (docs/security.md WH-6)."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from django.db import DatabaseError
from kombu.exceptions import OperationalError

from docusign_integration.connect import dispatch as connect_dispatch
from docusign_integration.connect.tasks import process_connect_events
from docusign_integration.envelopes import status as envelope_status
from docusign_integration.models import ConnectEvent, Envelope
from tests.connect.conftest import fixture_body


class RecordingBroker:
    """Stands in for `process_connect_events.apply_async`: records each message's ids, taking `delay` per publish."""

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.delay, self.fail = delay, fail
        self.messages: list[list[int]] = []
        self.lock = threading.Lock()

    def apply_async(self, args, retry):
        assert retry is False  # a dead broker must not hold DocuSign's request through publish retries
        time.sleep(self.delay)  # the round trip, during which other deliveries arrive
        if self.fail:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        with self.lock:
            self.messages.append(list(args[0]))


@pytest.fixture
def broker(monkeypatch) -> RecordingBroker:
    recording = RecordingBroker(delay=0.01)
    monkeypatch.setattr(process_connect_events, "apply_async", recording.apply_async)
    return recording


def test_a_lone_event_is_published_at_once_by_its_own_request(broker):
    connect_dispatch.queue_processing(7)
    assert broker.messages == [[7]]


def test_events_arriving_together_share_messages_and_none_is_left_behind(broker):
    threads = [threading.Thread(target=connect_dispatch.queue_processing, args=(n,)) for n in range(1, 201)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    published = [event_id for message in broker.messages for event_id in message]
    assert sorted(published) == list(range(1, 201))  # each exactly once, none waiting for the sweeper
    assert len(broker.messages) < 100  # 200 deliveries, far fewer broker round trips
    assert max(len(message) for message in broker.messages) <= connect_dispatch.MAX_EVENTS_PER_MESSAGE
    assert connect_dispatch._pending == []


def test_an_event_added_just_as_the_publisher_lets_go_is_still_published(broker, monkeypatch):
    """The race: B adds its id after A's last look but before A releases the lock, so B leaves it to A."""

    class LockThatLetsAnotherDeliveryInBeforeReleasing:
        def __init__(self) -> None:
            self.lock, self.interleaved = threading.Lock(), False

        def acquire(self, blocking: bool = True) -> bool:
            return self.lock.acquire(blocking)

        def release(self) -> None:
            if not self.interleaved:
                self.interleaved = True
                late = threading.Thread(target=connect_dispatch.queue_processing, args=(2,))
                late.start()
                late.join()  # B found the lock taken and returned, trusting A to publish its id
            self.lock.release()

    monkeypatch.setattr(connect_dispatch, "_publishing", LockThatLetsAnotherDeliveryInBeforeReleasing())
    connect_dispatch.queue_processing(1)

    assert broker.messages == [[1], [2]]
    assert connect_dispatch._pending == []


def test_a_broker_outage_costs_the_delivery_nothing_and_leaves_the_event_waiting(
        monkeypatch, deliver, acme_organization, partner_key, caplog):
    monkeypatch.setattr(process_connect_events, "apply_async", RecordingBroker(fail=True).apply_async)
    with caplog.at_level(logging.WARNING, logger="docusign_integration.connect.dispatch"):
        response = deliver.signed(fixture_body("envelope-completed"))

    assert response.status_code == 200  # stored, so acknowledged; the sweeper queues it once the broker is back
    assert ConnectEvent.objects.get().state == "received"
    assert "1 Connect events stored but not queued" in caplog.text
    assert connect_dispatch._pending == []


@pytest.mark.django_db
@pytest.mark.parametrize("event_ids", ["17", [True], [-1], [1.0], ["1"], list(range(1, 102)), {"ids": [1]}, None])
def test_the_task_refuses_arguments_the_listener_never_sends_and_changes_nothing(event_ids, deliver, acme_organization,
                                                                              partner_key, monkeypatch):
    monkeypatch.setattr(process_connect_events, "apply_async", RecordingBroker().apply_async)
    deliver.signed(fixture_body("envelope-completed"))
    event = ConnectEvent.objects.get()

    with pytest.raises(ValueError, match="a list of at most 100 event ids"):
        process_connect_events(event_ids)
    event.refresh_from_db()
    assert (event.state, event.attempts) == ("received", 0)


@pytest.mark.django_db
def test_one_event_failing_leaves_it_for_the_sweeper_and_the_others_are_applied(deliver, acme_organization, partner_key,
                                                                               monkeypatch):
    monkeypatch.setattr(process_connect_events, "apply_async", RecordingBroker().apply_async)
    deliver.signed(fixture_body("envelope-completed"))
    deliver.signed(fixture_body("envelope-declined"))  # another envelope
    first, second = ConnectEvent.objects.order_by("pk")
    real_apply = envelope_status.envelope_status_apply

    def database_gone_for_the_first(**kwargs):
        if kwargs["envelope_id"] == first.envelope_id:
            raise DatabaseError("server closed the connection unexpectedly")
        return real_apply(**kwargs)

    monkeypatch.setattr("docusign_integration.connect.events.envelope_status_apply", database_gone_for_the_first)
    assert process_connect_events([first.pk, second.pk]) == 1

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.attempts) == ("received", 1)  # the sweeper queues it again, up to 5 attempts
    assert second.state == "applied"
    assert Envelope.objects.get().envelope_id == second.envelope_id
