"""The envelope state machine as a client sees it: routing order, and the Connect events each change publishes."""

from __future__ import annotations

import pytest

from tests.sandbox.rest_support import Browser, envelope_definition, recipient_view_request, serve_rest_sandbox

EVENTS = ["envelope-sent", "envelope-delivered", "envelope-completed", "envelope-declined", "envelope-voided",
          "recipient-sent", "recipient-delivered", "recipient-completed", "recipient-declined"]


@pytest.fixture
def rest(transactional_db):
    with serve_rest_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def published(rest):
    """The JSON SIM events Connect records for the account, in order (recorded, never sent: drop is 100%)."""
    from docusign_sandbox.models import Account, ConnectConfiguration, ConnectDelivery, SandboxControl

    SandboxControl.objects.update_or_create(pk=1, defaults={"connect_drop_percent": 100})
    ConnectConfiguration.objects.create(account=Account.objects.get(account_id=rest.account_id), body={
        "configurationType": "custom", "name": "portal", "urlToPublishTo": "https://listener.example/connect",
        "allowEnvelopePublish": "true", "allUsers": "true", "deliveryMode": "SIM",
        "eventData": {"version": "restv2.1", "format": "json"}, "events": EVENTS,
    })
    return lambda: list(ConnectDelivery.objects.order_by("pk").values_list("event", flat=True))


def _sign(rest, envelope_id: str, **view: str) -> None:
    url = rest.call("POST", f"/envelopes/{envelope_id}/views/recipient", json=recipient_view_request(**view)).json()
    browser = Browser()
    browser.open(url["url"])
    browser.press("sign")


def test_send_open_and_sign_publish_docusigns_events_in_order(rest, published):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]
    _sign(rest, envelope_id)

    assert published() == ["envelope-sent", "recipient-sent", "recipient-delivered", "envelope-delivered",
                           "recipient-completed", "envelope-completed"]


def test_decline_and_void_publish_their_events(rest, published):
    declined = rest.create_envelope(status="sent")["envelopeId"]
    url = rest.call("POST", f"/envelopes/{declined}/views/recipient", json=recipient_view_request()).json()["url"]
    browser = Browser()
    browser.open(url)
    browser.press("decline", reason="No")
    voided = rest.create_envelope(status="sent")["envelopeId"]
    rest.call("PUT", f"/envelopes/{voided}", json={"status": "voided", "voidedReason": "Replaced"})

    assert published()[-5:] == ["recipient-declined", "envelope-declined", "envelope-sent", "recipient-sent",
                                "envelope-voided"]


def test_signers_are_reached_in_routing_order(rest):
    signers = [
        {"email": "ana@client.example", "name": "Ana Signer", "recipientId": "1", "routingOrder": "1",
         "clientUserId": "client-7"},
        {"email": "ben@client.example", "name": "Ben Second", "recipientId": "2", "routingOrder": "2",
         "clientUserId": "client-8"},
    ]
    envelope_id = rest.create_envelope(status="sent", recipients={"signers": signers})["envelopeId"]
    ben = {"clientUserId": "client-8", "email": "ben@client.example", "userName": "Ben Second"}

    early = rest.call("POST", f"/envelopes/{envelope_id}/views/recipient", json=recipient_view_request(**ben))
    assert early.json()["errorCode"] == "RECIPIENT_NOT_IN_SEQUENCE"

    _sign(rest, envelope_id)
    recipients = rest.call("GET", f"/envelopes/{envelope_id}/recipients").json()
    assert [s["status"] for s in recipients["signers"]] == ["completed", "sent"]
    assert recipients["currentRoutingOrder"] == "2"
    assert rest.call("GET", f"/envelopes/{envelope_id}").json()["status"] == "delivered"

    _sign(rest, envelope_id, **ben)
    assert rest.call("GET", f"/envelopes/{envelope_id}").json()["status"] == "completed"


def test_a_draft_publishes_nothing_until_it_is_sent(rest, published):
    envelope_id = rest.call("POST", "/envelopes", json=envelope_definition()).json()["envelopeId"]
    assert published() == []

    rest.call("PUT", f"/envelopes/{envelope_id}", json={"status": "sent"})

    assert published() == ["envelope-sent", "recipient-sent"]
