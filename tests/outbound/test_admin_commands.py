"""Staff manage endpoints and replay events in the admin and with commands; secrets never reach a page."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from outbound_events import outbox, secrets
from outbound_events.models import Delivery, DeliveryState, OutboundEvent, WebhookEndpoint
from tenants.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    from tests import factories

    staff = factories.isv_staff()
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="outbound_events"))
    client.force_login(staff)
    return client


def test_an_endpoint_added_in_the_admin_is_audited_and_its_secret_is_only_masked(staff_client, organization, receiver,
                                                                                 settings):
    settings.OUTBOUND_EVENTS_ALLOW_LOOPBACK = True
    response = staff_client.post("/admin/outbound_events/webhookendpoint/add/", {
        "organization": organization.pk, "url": receiver.url, "event_types": ["envelope.completed"], "enabled": "on",
        "max_in_flight": 4})
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["envelope.completed"]
    secret = secrets.current(endpoint)
    change = staff_client.get(f"/admin/outbound_events/webhookendpoint/{endpoint.pk}/change/").content.decode()
    listing = staff_client.get("/admin/outbound_events/webhookendpoint/").content.decode()
    assert secret not in change and secret[-4:] in change and secret not in listing
    assert "t0ken" not in listing  # the URL's query is the ISV's token: the list shows the URL without it
    assert AuditEvent.objects.filter(action="webhook_endpoint.create").exists()


def test_the_admin_refuses_an_internal_url(staff_client, organization, settings):
    settings.OUTBOUND_EVENTS_ALLOW_LOOPBACK = False
    response = staff_client.post("/admin/outbound_events/webhookendpoint/add/", {
        "organization": organization.pk, "url": "https://127.0.0.1/hooks", "enabled": "on", "max_in_flight": 4})
    assert response.status_code == 200 and "not a public address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def _events(organization, count):
    with transaction.atomic():
        for _ in range(count):
            outbox.record("consent.changed", organization=organization, data={"consent_status": "granted"})


@pytest.mark.parametrize("path", ["outboundevent", "delivery", "webhookendpoint"])
def test_the_lists_take_the_same_queries_for_3_rows_as_for_30(staff_client, organization, endpoint, path):
    _events(organization, 3)
    with CaptureQueriesContext(connection) as few:
        assert staff_client.get(f"/admin/outbound_events/{path}/").status_code == 200
    _events(organization, 27)
    with CaptureQueriesContext(connection) as many:
        assert staff_client.get(f"/admin/outbound_events/{path}/").status_code == 200
    assert len(many) == len(few)


def test_replaying_events_in_the_admin_queues_their_deliveries_again(staff_client, organization, endpoint):
    _events(organization, 2)
    Delivery.objects.update(state=DeliveryState.DELIVERED)
    response = staff_client.post("/admin/outbound_events/outboundevent/", {
        "action": "replay", "_selected_action": [str(e.pk) for e in OutboundEvent.objects.all()]})
    assert response.status_code == 302
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.PENDING}
    assert AuditEvent.objects.filter(action="outbound_events.replay").exists()


def test_the_command_adds_an_endpoint_and_prints_its_secret_once(organization, receiver, settings):
    settings.OUTBOUND_EVENTS_ALLOW_LOOPBACK = True
    out = StringIO()
    call_command("webhook_endpoints", "add", organization.slug, receiver.url, "--event", "documents.ready", stdout=out)
    endpoint = WebhookEndpoint.objects.get()
    assert secrets.current(endpoint) in out.getvalue()
    listing = StringIO()
    call_command("webhook_endpoints", "list", stdout=listing)
    assert secrets.current(endpoint) not in listing.getvalue() and str(endpoint.pk) in listing.getvalue()
    with pytest.raises(CommandError, match="not a public address"):
        settings.OUTBOUND_EVENTS_ALLOW_LOOPBACK = False
        call_command("webhook_endpoints", "add", organization.slug, "https://10.0.0.8/hooks")


def test_the_command_replays_a_time_range_only(organization, endpoint):
    _events(organization, 3)
    Delivery.objects.update(state=DeliveryState.DELIVERED)
    old = OutboundEvent.objects.order_by("sequence").first()
    OutboundEvent.objects.filter(pk=old.pk).update(occurred_at=datetime(2026, 1, 1, tzinfo=UTC))
    out = StringIO()
    call_command("replay_webhook_events", "--from", "2025-12-31T00:00:00Z", "--to", "2026-01-02T00:00:00Z", stdout=out)
    assert "Queued 1 deliveries" in out.getvalue()
    assert Delivery.objects.get(event=old).state == DeliveryState.PENDING
    assert Delivery.objects.filter(state=DeliveryState.DELIVERED).count() == 2
    with pytest.raises(CommandError):
        call_command("replay_webhook_events", "--event", str(uuid.uuid4()), "--from", "2026-01-01T00:00:00Z")


def test_rotating_from_the_command_prints_the_new_secret_and_show_secret_prints_both_during_the_overlap(endpoint):
    out = StringIO()
    call_command("webhook_endpoints", "rotate", str(endpoint.pk), "--overlap-hours", "2", stdout=out)
    endpoint.refresh_from_db()
    new = secrets.current(endpoint)
    assert new in out.getvalue() and new != endpoint.test_secret
    shown = StringIO()
    call_command("webhook_endpoints", "show-secret", str(endpoint.pk), stdout=shown)
    assert shown.getvalue().split() == [new, endpoint.test_secret]
    assert AuditEvent.objects.filter(action="webhook_endpoint.rotate_secret").exists()
    with pytest.raises(CommandError, match="No webhook endpoint"):
        call_command("webhook_endpoints", "rotate", "not-an-id")
