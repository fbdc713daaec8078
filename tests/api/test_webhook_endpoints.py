"""`/api/v1/webhook_endpoints` (issue 17): the ISV's product manages its organization's endpoints; the secret is shown
once (create, rotate) and never again: not in list or get, not in a log line, not in the kept Idempotency-Key answer."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.models import IdempotentRequest
from outbound_events import outbox, secrets
from outbound_events.models import Delivery, DeliveryState, OutboundEvent, WebhookEndpoint
from tenants.models import AuditEvent

HOOK = "http://127.0.0.1:9/hooks?token=t0ken"


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.OUTBOUND_EVENTS_ALLOW_LOOPBACK = True  # the sandbox environment's rule; test_refused_urls turns it off


def _create(api, idempotency_key=None, **body):
    return api.post("webhook_endpoints", {"url": HOOK, "event_types": ["envelope.completed"], **body},
                    idempotency_key=idempotency_key)


def test_the_secret_is_in_the_create_answer_only(sandbox, acme, acme_api, caplog):
    caplog.set_level(logging.DEBUG)
    created = _create(acme_api, idempotency_key="hook-1")
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    endpoint = WebhookEndpoint.objects.get(organization=acme)
    assert created.json()["id"] == str(endpoint.pk) and secrets.current(endpoint) == secret
    assert secret.startswith("whsec_") and created.json()["event_types"] == ["envelope.completed"]

    listed, got = acme_api.get("webhook_endpoints"), acme_api.get(f"webhook_endpoints/{endpoint.pk}")
    assert listed.status_code == got.status_code == 200
    assert [e["id"] for e in listed.json()["webhook_endpoints"]] == [str(endpoint.pk)]
    assert got.json()["secret_hint"] == secrets.masked(endpoint)
    for answer in (listed, got):
        assert secret not in answer.content.decode() and secret[6:30] not in answer.content.decode()
    kept = IdempotentRequest.objects.get(organization=acme, key="hook-1")
    assert secret not in json.dumps(kept.response_body) and kept.status_code == 201
    assert secret not in caplog.text
    assert AuditEvent.objects.filter(action="webhook_endpoint.create", organization=acme).exists()

    # A retry with the key does not create a second endpoint, and does not serve the secret again.
    replay = _create(acme_api, idempotency_key="hook-1")
    assert replay.status_code == 409 and replay.json()["code"] == "secret_not_replayed"
    assert str(endpoint.pk) in replay.json()["detail"] and secret not in replay.content.decode()
    assert WebhookEndpoint.objects.filter(organization=acme).count() == 1


def test_another_organizations_endpoint_is_404_for_every_call(sandbox, acme, acme_api, globex_api):
    endpoint_id = _create(acme_api).json()["id"]
    for path in (f"webhook_endpoints/{endpoint_id}", "webhook_endpoints/not-a-uuid"):
        assert globex_api.get(path).status_code == 404
        assert globex_api.client.patch(f"/api/v1/{path}", {"enabled": False}, content_type="application/json"
                                       ).status_code == 404
        assert globex_api.client.delete(f"/api/v1/{path}").status_code == 404
        assert globex_api.post(f"{path}/rotate_secret", {}).status_code == 404
        assert globex_api.post(f"{path}/replay", {"start": timezone.now().isoformat()}).status_code == 404
    assert globex_api.get("webhook_endpoints").json() == {"webhook_endpoints": []}
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    assert endpoint.enabled and not endpoint.previous_secret_ciphertext


def test_refused_urls_are_400_naming_the_url_as_in_the_admin(sandbox, acme, acme_api, settings):
    endpoint_id = _create(acme_api).json()["id"]
    settings.OUTBOUND_EVENTS_ALLOW_LOOPBACK = False
    for url in ("https://169.254.169.254/latest/meta-data", "https://10.0.0.7/hooks", "http://8.8.8.8/hooks",
                "https://user:pw@8.8.8.8/hooks", "ftp://8.8.8.8/", "https://[::ffff:127.0.0.1]/"):
        created = acme_api.post("webhook_endpoints", {"url": url})
        assert created.status_code == 400, url
        assert [e["field"] for e in created.json()["errors"]] == ["url"], created.json()
        changed = acme_api.client.patch(f"/api/v1/webhook_endpoints/{endpoint_id}", {"url": url},
                                        content_type="application/json")
        assert changed.status_code == 400 and [e["field"] for e in changed.json()["errors"]] == ["url"], url
    assert WebhookEndpoint.objects.filter(organization=acme).count() == 1
    assert WebhookEndpoint.objects.get().url == HOOK
    unknown = acme_api.post("webhook_endpoints", {"url": "https://8.8.8.8/", "event_types": ["envelope.exploded"]})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "event_types.0"


def test_update_disable_and_delete_are_audited(sandbox, acme, acme_api):
    endpoint_id = _create(acme_api).json()["id"]
    path = f"/api/v1/webhook_endpoints/{endpoint_id}"
    changed = acme_api.client.patch(path, {"url": "http://127.0.0.1:10/new", "event_types": [], "enabled": False},
                                    content_type="application/json")
    assert changed.status_code == 200, changed.content
    assert (changed.json()["url"], changed.json()["event_types"], changed.json()["enabled"]) == (
        "http://127.0.0.1:10/new", [], False)
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    assert endpoint.url == "http://127.0.0.1:10/new" and not endpoint.enabled
    assert AuditEvent.objects.filter(action="webhook_endpoint.update", organization=acme).exists()
    assert acme_api.client.delete(path).status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=endpoint_id).exists()
    assert AuditEvent.objects.filter(action="webhook_endpoint.delete", organization=acme).exists()
    assert acme_api.get(f"webhook_endpoints/{endpoint_id}").status_code == 404


def test_rotate_returns_the_new_secret_once_and_the_old_keeps_signing(sandbox, acme, acme_api, caplog):
    caplog.set_level(logging.DEBUG)
    created = _create(acme_api).json()
    rotated = acme_api.post(f"webhook_endpoints/{created['id']}/rotate_secret", {"overlap_hours": 2},
                            idempotency_key="rotate-1")
    assert rotated.status_code == 200, rotated.content
    new = rotated.json()["secret"]
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    assert new != created["secret"] and secrets.signing_secrets(endpoint) == [new, created["secret"]]
    until = endpoint.previous_secret_until
    assert until is not None and timedelta(minutes=119) < until - timezone.now() <= timedelta(hours=2)
    assert AuditEvent.objects.filter(action="webhook_endpoint.rotate_secret", organization=acme).exists()
    again = acme_api.post(f"webhook_endpoints/{created['id']}/rotate_secret", {"overlap_hours": 2},
                          idempotency_key="rotate-1")
    assert again.status_code == 409 and new not in again.content.decode()
    assert secrets.current(WebhookEndpoint.objects.get(pk=created["id"])) == new  # not rotated twice
    kept = IdempotentRequest.objects.get(organization=acme, key="rotate-1")
    assert new not in json.dumps(kept.response_body) and new not in caplog.text
    assert new not in acme_api.get(f"webhook_endpoints/{created['id']}").content.decode()


def _delivered_events(organization, count):
    with transaction.atomic():
        events = [outbox.record("consent.changed", organization=organization, data={"consent_status": "granted"})
                  for _ in range(count)]
    Delivery.objects.update(state=DeliveryState.DELIVERED)
    return events


def test_replay_one_event_or_a_time_range_of_the_organizations_own(sandbox, acme, globex, acme_api):
    endpoint_id = _create(acme_api, event_types=[]).json()["id"]
    first, second, third = _delivered_events(acme, 3)
    OutboundEvent.objects.filter(pk=first.pk).update(occurred_at=timezone.now() - timedelta(days=2))
    (other,) = _delivered_events(globex, 1)
    replay = f"webhook_endpoints/{endpoint_id}/replay"

    one = acme_api.post(replay, {"event_id": str(second.pk)})
    assert one.status_code == 202 and one.json() == {"queued": 1}
    assert Delivery.objects.get(event=second).state == DeliveryState.PENDING
    assert Delivery.objects.get(event=third).state == DeliveryState.DELIVERED
    assert acme_api.post(replay, {"event_id": str(other.pk)}).status_code == 404  # globex's event

    Delivery.objects.update(state=DeliveryState.DELIVERED)
    ranged = acme_api.post(replay, {"start": (timezone.now() - timedelta(days=1)).isoformat()})
    assert ranged.status_code == 202 and ranged.json() == {"queued": 2}
    pending = set(Delivery.objects.filter(state=DeliveryState.PENDING).values_list("event_id", flat=True))
    assert pending == {second.pk, third.pk}
    assert acme_api.post(replay, {}).status_code == 400
    assert AuditEvent.objects.filter(action="outbound_events.replay").count() == 2



def test_the_list_costs_the_same_queries_for_one_endpoint_or_five(sandbox, acme, acme_api):
    _create(acme_api)
    with CaptureQueriesContext(connection) as one:
        assert len(acme_api.get("webhook_endpoints").json()["webhook_endpoints"]) == 1
    for _ in range(4):
        _create(acme_api)
    with CaptureQueriesContext(connection) as five:
        assert len(acme_api.get("webhook_endpoints").json()["webhook_endpoints"]) == 5
    assert len(five) == len(one)
