"""Messages are applied once, in lifecycle order however they came; poison is quarantined (docs/security.md WH-4, WH-5, BI-4)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from docusign_integration.connect.events import connect_event_process, connect_event_store
from docusign_integration.connect.tasks import sweep_connect_events
from docusign_integration.models import ConnectEvent, Envelope
from tenants.models import AuditEvent
from tests.connect.conftest import fixture_body, with_payload

pytestmark = pytest.mark.django_db


def status_changes(envelope_id: str) -> list[str]:
    audits = AuditEvent.objects.filter(action="envelope.status_changed", target=f"envelope {envelope_id}").order_by("pk")
    return [a.after["status"] for a in audits]


def test_redeliveries_are_stored_once_and_applied_once(deliver, acme_organization, partner_key, completed_envelopes):
    body = fixture_body("envelope-completed")
    for retry_count in (0, 1, 2, 1, 0):
        assert deliver.signed(with_payload(body, retryCount=retry_count)).status_code == 200

    event = ConnectEvent.objects.get()
    assert (event.state, event.retry_count) == ("applied", 2)
    assert status_changes(event.envelope_id) == ["completed"]
    assert completed_envelopes == [event.envelope_id]


def test_out_of_order_messages_end_on_the_latest_status(deliver, acme_organization, partner_key):
    for name in ("envelope-completed", "recipient-completed", "envelope-delivered", "envelope-sent"):
        assert deliver.signed(fixture_body(name)).status_code == 200

    envelope = Envelope.objects.get()
    assert envelope.status == "completed"
    assert [(r["recipient_id"], r["status"]) for r in envelope.recipients] == [("1", "completed")]
    assert status_changes(envelope.envelope_id) == ["completed"]  # no regressed status ever emitted
    assert set(ConnectEvent.objects.values_list("state", flat=True)) == {"applied"}


def test_processing_twice_changes_nothing_the_second_time(deliver, acme_organization, partner_key):
    deliver.signed(fixture_body("envelope-voided"))
    event = ConnectEvent.objects.get()
    ConnectEvent.objects.filter(pk=event.pk).update(state="received")  # as if its task ran again after a crash

    assert connect_event_process(event.pk) == "applied"
    assert connect_event_process(event.pk) == "applied"
    envelope = Envelope.objects.get()
    assert (envelope.status, envelope.voided_reason) == ("voided", "Sent to the wrong person")
    assert status_changes(envelope.envelope_id) == ["voided"]


def test_an_unknown_account_is_acknowledged_and_quarantined_never_applied(deliver, partner_key):
    response = deliver.signed(fixture_body("envelope-completed"))  # no organization has Acme's account

    assert response.status_code == 200
    event = ConnectEvent.objects.get()
    assert (event.state, event.organization) == ("quarantined", None)
    assert "No client organization has DocuSign account" in event.reason
    assert not Envelope.objects.exists()


def test_an_event_the_portal_does_not_act_on_is_stored_as_ignored(deliver, acme_organization, partner_key):
    response = deliver.signed(with_payload(fixture_body("envelope-sent"), event="template-modified"))
    assert response.status_code == 200
    assert ConnectEvent.objects.get().state == "ignored"
    assert not Envelope.objects.exists()


def _with_data(body: bytes, **changes) -> bytes:
    payload = json.loads(body)
    return with_payload(body, data={**payload["data"], **changes})


def _with_summary(body: bytes, **changes) -> bytes:
    payload = json.loads(body)
    return _with_data(body, envelopeSummary={**payload["data"]["envelopeSummary"], **changes})


@pytest.mark.parametrize("poison", [
    pytest.param(lambda b: _with_data(b, envelopeId=None), id="no envelopeId"),
    pytest.param(lambda b: with_payload(b, generatedDateTime="last tuesday"), id="bad generatedDateTime"),
    pytest.param(lambda b: _with_summary(b, status=["completed"]), id="status of the wrong type"),
    pytest.param(lambda b: _with_summary(b, status="shredded"), id="unknown status"),
    pytest.param(lambda b: _with_summary(b, recipients={"signers": "all"}), id="recipients of the wrong type"),
    pytest.param(lambda b: _with_summary(b, recipients={"signers": [{}] * 100_000}),
                 id="100,000 recipients"),
])
def test_a_signed_but_unusable_message_is_acknowledged_and_quarantined(deliver, acme_organization, partner_key, poison):
    response = deliver.signed(poison(fixture_body("envelope-completed")))

    assert response.status_code == 200  # a 4xx/5xx would make DocuSign send the poison again and again
    event = ConnectEvent.objects.get()
    assert event.state == "quarantined" and event.reason
    assert not Envelope.objects.filter(status="completed").exists()


@pytest.mark.parametrize("body", [b"{not json", b"[" * 10_000 + b"]" * 10_000, b'{"a": "\xff"}'])
def test_a_signed_body_that_is_not_json_gets_400_and_nothing_is_stored(deliver, acme_organization, partner_key, body):
    assert deliver.signed(body).status_code == 400
    assert not ConnectEvent.objects.exists()


def test_a_rolled_back_store_publishes_nothing_and_a_committed_one_exactly_once(acme_organization,
                                                                               django_capture_on_commit_callbacks):
    body = fixture_body("envelope-sent")

    def store():
        return connect_event_store(environment="sandbox", account_id=acme_organization.account_id,
                                   organization=acme_organization, payload=json.loads(body), body=body)

    with django_capture_on_commit_callbacks() as rolled_back, pytest.raises(RuntimeError), transaction.atomic():
        store()
        raise RuntimeError("the request failed after storing")
    assert rolled_back == [] and not ConnectEvent.objects.exists()

    with django_capture_on_commit_callbacks() as committed:
        store()
        store()  # a redelivery queues nothing more
    assert len(committed) == 1


def test_the_sweeper_processes_events_whose_task_was_lost(acme_organization, eager_celery):
    body = fixture_body("envelope-delivered")
    event, _ = connect_event_store(environment="sandbox", account_id=acme_organization.account_id,
                                   organization=acme_organization, payload=json.loads(body), body=body)
    # The test's transaction never commits, so the queued task never ran: as with a broker outage.
    assert sweep_connect_events() == 0  # too recent: its task may still be on its way
    ConnectEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=2))

    assert sweep_connect_events() == 1
    event.refresh_from_db()
    assert event.state == "applied"
    assert Envelope.objects.get().status == "delivered"


def test_the_sweeper_parks_an_event_that_keeps_failing(acme_organization, eager_celery):
    body = fixture_body("envelope-delivered")
    event, _ = connect_event_store(environment="sandbox", account_id=acme_organization.account_id,
                                   organization=acme_organization, payload=json.loads(body), body=body)
    ConnectEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=2), attempts=5)

    assert sweep_connect_events() == 0
    event.refresh_from_db()
    assert event.state == "quarantined" and "5 times" in event.reason
