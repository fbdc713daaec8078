"""Workflow pause and resume, resend, and recipient corrections while the envelope is open."""

from __future__ import annotations

import pytest

from tests.sandbox.rest_support import Browser, envelope_definition, recipient_view_request, serve_rest_sandbox

PAUSE_BEFORE_2 = {"workflowSteps": [{"action": "pause_before", "triggerOnItem": "routing_order", "itemId": "2"}]}


@pytest.fixture
def rest(transactional_db):
    with serve_rest_sandbox() as sandbox:
        yield sandbox


def _two_signers(**overrides) -> dict:
    body = envelope_definition(status="sent", **overrides)
    body["recipients"] = {"signers": [
        {"email": "ana@client.example", "name": "Ana Signer", "recipientId": "1", "routingOrder": "1",
         "clientUserId": "client-7"},
        {"email": "bo@client.example", "name": "Bo Second", "recipientId": "2", "routingOrder": "2",
         "clientUserId": "client-8"}]}
    return body


def _sign(rest, envelope_id: str, **view: str) -> None:
    response = rest.call("POST", f"/envelopes/{envelope_id}/views/recipient", json=recipient_view_request(**view))
    assert response.status_code == 201, response.text
    browser = Browser()
    browser.open(response.json()["url"])
    browser.press("sign")


def _statuses(rest, envelope_id: str) -> tuple[str, list[str]]:
    envelope = rest.call("GET", f"/envelopes/{envelope_id}?include=recipients").json()
    return envelope["status"], [s["status"] for s in envelope["recipients"]["signers"]]


def test_a_pause_before_routing_order_2_holds_the_envelope_until_the_sender_resumes_it(rest):
    envelope_id = rest.create_envelope(**_two_signers(workflow=PAUSE_BEFORE_2))["envelopeId"]
    _sign(rest, envelope_id)

    assert _statuses(rest, envelope_id) == ("delivered", ["completed", "created"])
    workflow = rest.call("GET", f"/envelopes/{envelope_id}/workflow").json()
    assert workflow["workflowStatus"] == "paused"
    assert workflow["currentWorkflowStepId"] == workflow["workflowSteps"][0]["workflowStepId"]
    held = rest.call("POST", f"/envelopes/{envelope_id}/views/recipient",
                     json=recipient_view_request(clientUserId="client-8", email="bo@client.example", userName="Bo Second"))
    assert held.json()["errorCode"] == "RECIPIENT_NOT_IN_SEQUENCE"

    resumed = rest.call("PUT", f"/envelopes/{envelope_id}?resend_envelope=true",
                        json={"workflow": {"workflowStatus": "in_progress"}})

    assert resumed.status_code == 200, resumed.text
    assert _statuses(rest, envelope_id) == ("delivered", ["completed", "sent"])
    assert rest.call("GET", f"/envelopes/{envelope_id}/workflow").json()["workflowStatus"] == "in_progress"
    _sign(rest, envelope_id, clientUserId="client-8", email="bo@client.example", userName="Bo Second")
    assert _statuses(rest, envelope_id)[0] == "completed"


def test_resuming_an_envelope_that_is_not_paused_is_refused(rest):
    envelope_id = rest.create_envelope(**_two_signers(workflow=PAUSE_BEFORE_2))["envelopeId"]

    response = rest.call("PUT", f"/envelopes/{envelope_id}", json={"workflow": {"workflowStatus": "in_progress"}})

    assert response.status_code == 400
    assert response.json()["errorCode"] == "ENVELOPE_WORKFLOW_NOT_PAUSED"


@pytest.mark.parametrize("workflow", [
    {"scheduledSending": {"rules": [{"resumeDate": "2030-01-01T00:00:00Z"}]}},
    {"workflowSteps": [{"action": "pause_before", "triggerOnItem": "routing_order", "itemId": "2",
                        "delayedRouting": {"rules": [{"delay": "1.00:00:00"}]}}]},
])
def test_a_workflow_the_sandbox_does_not_model_is_refused_naming_the_field(rest, workflow):
    from docusign_sandbox.models import Envelope

    response = rest.call("POST", "/envelopes", json=_two_signers(workflow=workflow))

    assert response.status_code == 400
    assert response.json()["errorCode"] == "UNMODELLED_BY_SANDBOX"
    assert ("scheduledSending" in response.json()["message"]) or ("delayedRouting" in response.json()["message"])
    assert not Envelope.objects.exists()


def test_resend_publishes_envelope_resent_for_an_open_envelope_only(rest):
    from docusign_sandbox.models import ConnectDelivery

    from .test_rest_state import EVENTS

    _connect(rest, [*EVENTS, "envelope-resent", "recipient-resent"])
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]
    draft_id = rest.create_envelope()["envelopeId"]

    assert rest.call("PUT", f"/envelopes/{envelope_id}?resend_envelope=true", json={}).status_code == 200
    refused = rest.call("PUT", f"/envelopes/{draft_id}?resend_envelope=true", json={})

    assert refused.status_code == 400 and refused.json()["errorCode"] == "ENVELOPE_CANNOT_RESEND"
    assert list(ConnectDelivery.objects.order_by("pk").values_list("event", flat=True))[-2:] == [
        "envelope-resent", "recipient-resent"]


def _connect(rest, events: list[str]) -> None:
    from docusign_sandbox.models import Account, ConnectConfiguration, SandboxControl

    SandboxControl.objects.update_or_create(pk=1, defaults={"connect_drop_percent": 100})  # recorded, never sent
    ConnectConfiguration.objects.create(account=Account.objects.get(account_id=rest.account_id), body={
        "configurationType": "custom", "name": "portal", "urlToPublishTo": "https://listener.example/connect",
        "allowEnvelopePublish": "true", "allUsers": "true", "deliveryMode": "SIM", "events": events,
        "eventData": {"version": "restv2.1", "format": "json"}})


def test_a_recipient_who_has_not_acted_can_be_corrected_and_signs_under_the_new_name(rest):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]

    response = rest.call("PUT", f"/envelopes/{envelope_id}/recipients",
                         json={"signers": [{"recipientId": "1", "name": "Ana Lopez", "email": "ana.lopez@client.example"}]})

    assert response.status_code == 200, response.text
    assert response.json()["recipientUpdateResults"][0]["recipientId"] == "1"
    signer = rest.call("GET", f"/envelopes/{envelope_id}/recipients").json()["signers"][0]
    assert (signer["name"], signer["email"]) == ("Ana Lopez", "ana.lopez@client.example")
    _sign(rest, envelope_id, email="ana.lopez@client.example", userName="Ana Lopez")
    assert _statuses(rest, envelope_id) == ("completed", ["completed"])


@pytest.mark.parametrize(("body", "code"), [
    ({"signers": [{"recipientId": "9", "name": "Nobody"}]}, "INVALID_RECIPIENT_ID"),
    ({"signers": [{"recipientId": "1", "email": "not-an-email"}]}, "INVALID_EMAIL_ADDRESS_FOR_RECIPIENT"),
    ({"signers": [{"recipientId": "1", "routingOrder": "3"}]}, "RECIPIENT_UPDATE_FAILED"),  # already reached
])
def test_bad_recipient_corrections_are_refused_and_change_nothing(rest, body, code):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]
    before = rest.call("GET", f"/envelopes/{envelope_id}/recipients").json()

    response = rest.call("PUT", f"/envelopes/{envelope_id}/recipients", json=body)

    assert response.status_code == 400
    assert response.json()["errorCode"] == code
    assert rest.call("GET", f"/envelopes/{envelope_id}/recipients").json() == before


def test_recipients_of_a_completed_envelope_cannot_be_changed(rest):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]
    _sign(rest, envelope_id)

    response = rest.call("PUT", f"/envelopes/{envelope_id}/recipients", json={"signers": [{"recipientId": "1", "name": "X"}]})

    assert response.status_code == 400
    assert response.json()["errorCode"] == "ENVELOPE_INVALID_STATUS"
