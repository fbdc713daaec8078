"""/metrics on the events to the ISV's product (issue 19; docs/operations.md section 10): deliveries pending and the
oldest one's age read at scrape time, endpoints failing or disabled, and how each delivery attempt ended.

The events go through the real outbox and delivery code to a real receiver on loopback (tests/outbound's fixtures,
imported by this directory's conftest)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outbound_events import outbox, services
from outbound_events.models import Delivery, DeliveryState, WebhookEndpoint
from tests import factories

pytestmark = pytest.mark.django_db


def record_event(organization, capture, *, queue: bool = True) -> None:
    """`envelope.sent` recorded in the transaction of a state change, as the envelope code does; queued after commit
    (to the `runner` fixture's queue) unless `queue` is False."""
    envelope = type("Envelope", (), {"envelope_id": str(uuid.uuid4()), "status": "sent"})()
    with capture(execute=queue), transaction.atomic():
        outbox.record("envelope.sent", organization=organization, envelope=envelope)


def test_an_undelivered_event_is_pending_with_a_lag_and_nothing_is_pending_once_it_is_delivered(
        organization, endpoint, receiver, runner, scrape, django_capture_on_commit_callbacks):
    assert scrape().value("portal_outbound_deliveries_pending") == 0
    assert scrape().value("portal_outbound_delivery_lag_seconds") == 0

    record_event(organization, django_capture_on_commit_callbacks)
    waiting = scrape()
    assert waiting.value("portal_outbound_deliveries_pending") == 1
    assert waiting.value("portal_outbound_delivery_lag_seconds") > 0

    runner.run()
    assert [r.answered for r in receiver.received] == [200]
    delivered = scrape()
    assert delivered.value("portal_outbound_deliveries_pending") == 0
    assert delivered.value("portal_outbound_delivery_lag_seconds") == 0


def test_the_lag_is_the_age_of_the_oldest_unfinished_delivery(organization, endpoint, scrape,
                                                              django_capture_on_commit_callbacks):
    for _ in range(3):
        record_event(organization, django_capture_on_commit_callbacks, queue=False)
    oldest, delivering, delivered = Delivery.objects.order_by("pk")
    Delivery.objects.filter(pk=oldest.pk).update(created=timezone.now() - timedelta(minutes=10))
    Delivery.objects.filter(pk=delivering.pk).update(state=DeliveryState.DELIVERING)  # in flight: not delivered yet
    Delivery.objects.filter(pk=delivered.pk).update(state=DeliveryState.DELIVERED, created=timezone.now() - timedelta(days=1))

    got = scrape()
    assert got.value("portal_outbound_deliveries_pending") == 2
    assert 600 <= got.value("portal_outbound_delivery_lag_seconds") < 700

    Delivery.objects.filter(pk=oldest.pk).update(state=DeliveryState.FAILED)  # given up: no longer pending
    assert scrape().value("portal_outbound_delivery_lag_seconds") < 60

    services.endpoint_update(acting_user=None, endpoint=endpoint, enabled=False)  # parked until enabled again
    parked = scrape()
    assert parked.value("portal_outbound_deliveries_pending") == 0 and parked.value("portal_outbound_delivery_lag_seconds") == 0
    assert parked.value("portal_outbound_endpoints_failing", state="disabled") == 1


def test_each_attempt_is_counted_by_how_it_ended_and_failing_endpoints_are_counted(
        organization, endpoint, receiver, runner, scrape, settings, django_capture_on_commit_callbacks):
    settings.OUTBOUND_EVENTS_RETRY_BASE = 5
    receiver.behave = lambda n, data: 500 if n == 0 else 200
    before = scrape()
    record_event(organization, django_capture_on_commit_callbacks)

    runner.run(limit=1)  # the first attempt: a 500, retried later
    failing = scrape()
    assert failing.value("portal_outbound_endpoints_failing", state="failing") == 1
    assert failing.value("portal_outbound_deliveries_pending") == 1
    runner.run()
    after = scrape()

    def change(outcome: str) -> float:
        return (after.value("portal_outbound_deliveries_total", outcome=outcome)
                - before.value("portal_outbound_deliveries_total", outcome=outcome))

    assert (change("retry"), change("delivered"), change("failed")) == (1, 1, 0)
    assert after.value("portal_outbound_endpoints_failing", state="failing") == 0  # a success clears the failure

    services.endpoint_update(acting_user=None, endpoint=endpoint, enabled=False)
    assert scrape().value("portal_outbound_endpoints_failing", state="disabled") == 1


def test_the_outbound_gauges_cost_the_same_queries_at_1_and_at_40_organizations(client, metrics_on, settings,
                                                                                 django_capture_on_commit_callbacks):
    settings.OUTBOUND_EVENTS_ALLOW_LOOPBACK = True

    def grow(count: int) -> None:
        while WebhookEndpoint.objects.count() < count:
            made = factories.organization(f"Client {uuid.uuid4().hex[:8]}")
            services.endpoint_create(acting_user=None, organization=made, url="http://127.0.0.1:9/hooks")
            record_event(made, django_capture_on_commit_callbacks, queue=False)  # never delivered: all pending

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_on}").status_code == 200
        return len(captured.captured_queries)

    grow(1)
    at_1 = queries()
    grow(40)
    WebhookEndpoint.objects.filter(pk__in=WebhookEndpoint.objects.values("pk")[:5]).update(failing_since=timezone.now())
    assert queries() == at_1
