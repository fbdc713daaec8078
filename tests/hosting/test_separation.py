"""Separation inside the ISV account: Connect routing by custom field and sender, and the one account-wide sweep."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from docusign_integration.client.custom_fields import HOSTED_CLIENT_FIELD
from docusign_integration.connect.hmac import signature
from docusign_integration.connect.models import ConnectEventState
from docusign_integration.hosting.sweep import isv_account_sweep
from docusign_integration.models import ConnectEvent, Envelope
from docusign_sandbox import connect_delivery, envelope_state
from docusign_sandbox.models import Account, ConnectDelivery, EnvelopeCustomField
from docusign_sandbox.models import Envelope as SandboxEnvelope
from docusign_sandbox.seed import PARTNER
from tests.connect.sandbox_world import connect_configuration, delivery_request, draft_envelope, import_partner_keys
from tests.hosting.conftest import send_draft


def partner() -> Account:
    return Account.objects.get(account_id=PARTNER.account_id)


@pytest.fixture
def connect_world(sandbox, hosted_pair):
    import_partner_keys(sandbox.seed)
    configuration = connect_configuration(partner(), "http://127.0.0.1:1/unused")
    configuration.body["eventData"]["includeData"] = ["recipients", "custom_fields"]
    configuration.save()
    return hosted_pair


def sent_delivery(envelope_id: str) -> ConnectDelivery:
    """Send the envelope in the sandbox; the envelope-sent message it records for the ISV account's configuration."""
    envelope_state.send(SandboxEnvelope.objects.get(envelope_id=envelope_id))
    connect_delivery.flush(10)
    return ConnectDelivery.objects.filter(envelope_id=envelope_id, payload__event="envelope-sent").latest("pk")


def post(body: bytes, headers: dict[str, str]) -> int:
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "Content-Type"}
    return Client().post("/docusign/connect/", body, content_type="application/json", **extra).status_code


def resigned(sandbox, payload: dict) -> tuple[bytes, dict[str, str]]:
    """A changed message signed again with the partner key (as a forger holding a key, or a buggy sender, would)."""
    body = json.dumps(payload).encode()
    return body, {"X-DocuSign-AccountId": PARTNER.account_id,
                  "X-DocuSign-Signature-1": signature(sandbox.seed["hmac_keys"][0]["secret"], body)}


def test_a_message_reaches_only_the_client_its_custom_field_and_sender_name(connect_world, eager_celery):
    alpha, bravo = connect_world
    alpha_id, bravo_id = send_draft(alpha, "Alpha's contract"), send_draft(bravo, "Bravo's contract")
    assert EnvelopeCustomField.objects.get(envelope__envelope_id=bravo_id, name=HOSTED_CLIENT_FIELD).show is False

    for envelope_id in (alpha_id, bravo_id):
        assert post(*delivery_request(sent_delivery(envelope_id))) == 200

    event = ConnectEvent.objects.get(envelope_id=bravo_id, event="envelope-sent")
    assert event.organization == bravo.organization
    assert event.state == ConnectEventState.APPLIED
    assert Envelope.objects.get(envelope_id=bravo_id).organization == bravo.organization
    assert not Envelope.objects.filter(organization=alpha.organization, envelope_id=bravo_id).exists()
    assert Envelope.objects.get(envelope_id=alpha_id, organization=alpha.organization).status == "sent"


def test_a_message_without_the_custom_field_is_quarantined(connect_world, sandbox, eager_celery):
    payload = sent_delivery(send_draft(connect_world[0], "Alpha's contract")).payload
    del payload["data"]["envelopeSummary"]["customFields"]

    assert post(*resigned(sandbox, payload)) == 200

    event = ConnectEvent.objects.get(envelope_id=payload["data"]["envelopeId"])
    assert event.state == ConnectEventState.QUARANTINED
    assert event.organization is None
    assert HOSTED_CLIENT_FIELD in event.reason


def test_a_message_naming_another_client_than_its_senders_is_quarantined(connect_world, sandbox, eager_celery):
    alpha, bravo = connect_world
    payload = sent_delivery(send_draft(bravo, "Bravo's contract")).payload
    for field in payload["data"]["envelopeSummary"]["customFields"]["textCustomFields"]:
        field["value"] = alpha.organization.slug  # Bravo's system user sent it; the field claims Alpha

    assert post(*resigned(sandbox, payload)) == 200

    event = ConnectEvent.objects.get(envelope_id=payload["data"]["envelopeId"])
    assert event.state == ConnectEventState.QUARANTINED
    assert "sender" in event.reason
    assert not Envelope.objects.filter(organization=alpha.organization).exists()
    assert Envelope.objects.get(envelope_id=payload["data"]["envelopeId"]).status == "created"  # Bravo's draft, unmoved


def test_the_sweep_for_the_isv_account_gives_each_client_only_its_own_envelopes(hosted_pair):
    alpha, bravo = hosted_pair
    Envelope.objects.all().delete()  # as if Connect had delivered nothing: the sweep alone finds them
    alpha_ids = {send_draft(alpha, f"Alpha {n}") for n in range(3)}
    bravo_ids = {send_draft(bravo, f"Bravo {n}") for n in range(2)}
    Envelope.objects.all().delete()
    stray = draft_envelope(partner(), subject="The ISV's own envelope")  # sent by the ISV's admin, no custom field

    with CaptureQueriesContext(connection) as queries:
        result = isv_account_sweep("sandbox")

    assert set(Envelope.objects.filter(organization=alpha.organization).values_list("envelope_id", flat=True)) == alpha_ids
    assert set(Envelope.objects.filter(organization=bravo.organization).values_list("envelope_id", flat=True)) == bravo_ids
    assert not Envelope.objects.filter(envelope_id=stray.envelope_id).exists()
    assert result.unroutable == 1
    assert result.calls == 1  # one account-wide listing, not one per system user
    routing = [q for q in queries.captured_queries if 'FROM "tenants_clientorganization"' in q["sql"]]
    assert len(routing) == 1  # one lookup of the clients the page names, not one per envelope


def test_replaying_quarantined_messages_never_gives_them_to_a_hosted_client(connect_world, sandbox, eager_celery):
    alpha, bravo = connect_world
    payload = sent_delivery(send_draft(bravo, "Bravo's contract")).payload
    del payload["data"]["envelopeSummary"]["customFields"]
    assert post(*resigned(sandbox, payload)) == 200

    call_command("replay_connect_events", "--quarantined", "--organization", alpha.organization.slug, stdout=io.StringIO())
    call_command("replay_connect_events", "--quarantined", stdout=io.StringIO())

    event = ConnectEvent.objects.get(envelope_id=payload["data"]["envelopeId"])
    assert event.state == ConnectEventState.QUARANTINED and event.organization is None
    assert not Envelope.objects.filter(organization=alpha.organization).exists()
    assert Envelope.objects.get(envelope_id=payload["data"]["envelopeId"]).status == "created"
