"""The DEBUG-only receiver page of `make run`: what an endpoint received, with its signature checked; 404 otherwise."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from docusign_integration.envelopes.status import envelope_status_apply
from outbound_events import services
from outbound_events.models import Delivery
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_receiver_page_lists_what_the_endpoint_received_with_verified_signatures(
        live_server, organization, runner, settings, client, django_capture_on_commit_callbacks):
    settings.DEBUG = True
    services.endpoint_create(acting_user=None, organization=organization, url=f"{live_server.url}/_dev/webhooks/acme/")
    envelope_id = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=True):
        envelope_status_apply(organization=organization, envelope_id=envelope_id, status="sent",
                              changed_at=datetime(2026, 1, 1, tzinfo=UTC), source="connect")
    # The delivery's own id: ids are not reset between the suite's transactional tests (SQLite's AUTOINCREMENT).
    assert runner.run() == [(Delivery.objects.get().pk, "delivered")]

    client.force_login(factories.isv_staff())
    page = client.get("/_dev/webhooks/acme/").content.decode()
    assert "envelope.sent" in page and envelope_id in page and "verified" in page and "not verified" not in page


def test_the_receiver_is_404_without_debug(client, settings):
    settings.DEBUG = False
    assert client.post("/_dev/webhooks/acme/", b"{}", content_type="application/json").status_code == 404
    client.force_login(factories.isv_staff())
    assert client.get("/_dev/webhooks/acme/").status_code == 404


def test_seed_demo_points_each_demo_client_at_the_receiver_page_once(sandbox, settings, tmp_path):
    import io

    from django.core.management import call_command

    from outbound_events.models import WebhookEndpoint

    settings.VAR_DIR, settings.DEBUG, settings.OUTBOUND_EVENTS_ALLOW_LOOPBACK = tmp_path, True, True
    for _ in range(2):
        call_command("seed_demo", stdout=io.StringIO())

    assert sorted(WebhookEndpoint.objects.values_list("organization__slug", "url")) == [
        ("acme", f"{settings.PORTAL_BASE_URL}/_dev/webhooks/acme/"),
        ("initech", f"{settings.PORTAL_BASE_URL}/_dev/webhooks/initech/")]
