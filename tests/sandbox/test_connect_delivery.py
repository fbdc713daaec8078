"""Connect messages from the sandbox to a listener on loopback: JSON SIM, HMAC, filtering, drops and retries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

import requests
from django.utils import timezone

from docusign_sandbox import envelope_state
from docusign_sandbox.connect_delivery import hmac_signature
from docusign_sandbox.models import Account, ConnectDelivery, Document, Envelope, HMACKey, Recipient

ISO_7 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")


def _verifies(secret: str, body: bytes, signature: str) -> bool:
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, signature)


def _configure(sandbox, member, url: str, **fields: object) -> dict:
    body = {"configurationType": "custom", "name": "Portal", "urlToPublishTo": url, "allowEnvelopePublish": "true",
            "allUsers": "true", "includeHMAC": "true", "events": ["envelope-sent", "envelope-completed"],
            "eventData": {"version": "restv2.1", "format": "json", "includeData": ["recipients"]}, **fields}
    response = requests.post(f"{sandbox.rest(member.account)}/connect", headers=member.headers, json=body, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def _draft(member) -> Envelope:
    now = timezone.now()
    envelope = Envelope.objects.create(account=member.account, sender=member.user, email_subject="Please sign",
                                       created_at=now, status_changed_at=now, last_modified_at=now)
    Document.objects.create(envelope=envelope, document_id="1", name="Agreement", content=b"%PDF-1.4")
    Recipient.objects.create(envelope=envelope, recipient_id="1", email="signer@example.com", name="Signer")
    return envelope


def _flush(sandbox) -> None:
    assert requests.post(f"{sandbox.url}/_sandbox/connect/flush", json={"timeout": 10}, timeout=15).json() == {
        "flushed": True}


def _failures(sandbox, member) -> list[dict]:
    return requests.get(f"{sandbox.rest(member.account)}/connect/failures", headers=member.headers,
                        timeout=10).json()["failures"]


def test_the_hmac_signer_matches_the_known_answer():
    assert hmac_signature("It's a Secret to Everybody", b"Hello, World!") == "dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc="


def test_a_sent_envelope_reaches_the_listener_as_signed_sim_json(bare_sandbox, sandbox_member, connect_listener):
    admin = sandbox_member()
    HMACKey.objects.create(account=admin.account, secret="account-secret-1")
    config = _configure(bare_sandbox, admin, connect_listener.url)
    envelope = _draft(admin)

    envelope_state.send(envelope)
    _flush(bare_sandbox)

    [message] = connect_listener.received
    assert message.headers["Content-Type"] == "application/json"
    assert message.headers["X-DocuSign-AccountId"] == admin.account.account_id
    assert message.headers["X-Authorization-Digest"] == "HMACSHA256"
    assert _verifies("account-secret-1", message.body, message.headers["X-DocuSign-Signature-1"])
    sim = json.loads(message.body)
    assert sim["event"] == "envelope-sent" and sim["apiVersion"] == "v2.1"
    assert sim["configurationId"] == int(config["connectId"]) and sim["retryCount"] == 0
    assert ISO_7.match(sim["generatedDateTime"])
    assert sim["uri"] == f"/restapi/v2.1/accounts/{admin.account.account_id}/envelopes/{envelope.envelope_id}"
    assert sim["data"]["accountId"] == admin.account.account_id and sim["data"]["userId"] == admin.user.user_id
    summary = sim["data"]["envelopeSummary"]
    assert summary["status"] == "sent" and summary["envelopeId"] == envelope.envelope_id
    assert summary["emailSubject"] == "Please sign" and ISO_7.match(summary["sentDateTime"])
    assert summary["sender"]["email"] == admin.user.email
    assert summary["recipients"]["signers"][0]["email"] == "signer@example.com"
    assert summary["recipients"]["recipientCount"] == "1"


def test_each_active_key_signs_in_its_own_header(bare_sandbox, sandbox_member, connect_listener):
    admin = sandbox_member()
    for secret, active in (("first", True), ("retired", False), ("second", True)):
        HMACKey.objects.create(account=admin.account, secret=secret, active=active)
    _configure(bare_sandbox, admin, connect_listener.url)

    envelope_state.send(_draft(admin))
    _flush(bare_sandbox)

    [message] = connect_listener.received
    signatures = {k: v for k, v in message.headers.items() if k.startswith("X-DocuSign-Signature-")}
    assert sorted(signatures) == ["X-DocuSign-Signature-1", "X-DocuSign-Signature-2"]
    assert _verifies("first", message.body, signatures["X-DocuSign-Signature-1"])
    assert _verifies("second", message.body, signatures["X-DocuSign-Signature-2"])


def test_integrator_managed_messages_are_signed_with_the_partners_keys(bare_sandbox, sandbox_member, connect_listener):
    partner = Account.objects.create(name="ISV partner", account_number="90000001")
    HMACKey.objects.create(account=partner, secret="partner-secret")
    customer = sandbox_member()
    customer.integration_key.partner_account = partner
    customer.integration_key.save()
    HMACKey.objects.create(account=customer.account, secret="customer-secret")
    _configure(bare_sandbox, customer, connect_listener.url, integratorManaged="true")

    envelope_state.send(_draft(customer))
    _flush(bare_sandbox)

    [message] = connect_listener.received
    assert message.headers["X-DocuSign-AccountId"] == customer.account.account_id
    assert _verifies("partner-secret", message.body, message.headers["X-DocuSign-Signature-1"])
    assert "X-DocuSign-Signature-2" not in message.headers


def test_only_the_configured_events_are_published(bare_sandbox, sandbox_member, connect_listener):
    admin = sandbox_member()
    _configure(bare_sandbox, admin, connect_listener.url, events=["envelope-completed", "recipient-completed"])
    _configure(bare_sandbox, admin, connect_listener.url, name="Off", allowEnvelopePublish="false")
    envelope = _draft(admin)

    envelope_state.send(envelope)
    signed = requests.post(f"{bare_sandbox.url}/_sandbox/recipients/{envelope.envelope_id}/1/sign", json={}, timeout=10)
    _flush(bare_sandbox)

    assert signed.json() == {"envelope_status": "completed", "recipient_status": "completed"}
    messages = [json.loads(m.body) for m in connect_listener.received]
    assert [m["event"] for m in messages] == ["recipient-completed", "envelope-completed"]
    assert messages[0]["data"]["recipientId"] == "1" and "recipientId" not in messages[1]["data"]


def test_a_drop_share_of_100_sends_nothing_and_records_the_drops(bare_sandbox, sandbox_member, connect_listener):
    admin = sandbox_member()
    _configure(bare_sandbox, admin, connect_listener.url)
    requests.post(f"{bare_sandbox.url}/_sandbox/connect/drop", json={"percent": 100}, timeout=10)

    envelope_state.send(_draft(admin))
    _flush(bare_sandbox)

    assert connect_listener.received == []
    deliveries = requests.get(f"{bare_sandbox.url}/_sandbox/connect/deliveries", timeout=10).json()["deliveries"]
    assert [(d["event"], d["status"], d["attempts"]) for d in deliveries] == [("envelope-sent", "dropped", 0)]


def test_a_failed_message_is_listed_and_republished_from_the_retry_queue(bare_sandbox, sandbox_member, connect_listener):
    admin = sandbox_member()
    config = _configure(bare_sandbox, admin, connect_listener.url)
    envelope = _draft(admin)
    connect_listener.status = 503

    envelope_state.send(envelope)
    _flush(bare_sandbox)
    [failure] = _failures(bare_sandbox, admin)
    connect_listener.status = 200
    retried = requests.put(f"{bare_sandbox.rest(admin.account)}/connect/envelopes/{envelope.envelope_id}/retry_queue",
                           headers=admin.headers, timeout=10)
    _flush(bare_sandbox)

    assert failure["envelopeId"] == envelope.envelope_id and failure["connectId"] == config["connectId"]
    assert failure["status"] == "failed" and "503" in failure["error"] and failure["retryCount"] == "0"
    assert retried.status_code == 200
    assert retried.json()["retryQueue"][0]["envelopeId"] == envelope.envelope_id
    first, second = (json.loads(m.body) for m in connect_listener.received)
    assert (first["retryCount"], second["retryCount"]) == (0, 1)
    assert first["generatedDateTime"] == second["generatedDateTime"]  # the same message, sent again
    assert _failures(bare_sandbox, admin) == []


def test_a_deleted_failure_is_not_republished(bare_sandbox, sandbox_member, connect_listener):
    admin = sandbox_member()
    _configure(bare_sandbox, admin, connect_listener.url)
    envelope = _draft(admin)
    connect_listener.status = 500
    envelope_state.send(envelope)
    _flush(bare_sandbox)
    [failure] = _failures(bare_sandbox, admin)

    deleted = requests.delete(f"{bare_sandbox.rest(admin.account)}/connect/failures/{failure['failureId']}",
                              headers=admin.headers, timeout=10)
    retried = requests.put(f"{bare_sandbox.rest(admin.account)}/connect/envelopes/retry_queue", headers=admin.headers,
                           json={"envelopeIds": [envelope.envelope_id]}, timeout=10)
    _flush(bare_sandbox)

    assert deleted.status_code == 200
    assert retried.json() == {"retryQueue": []}
    assert len(connect_listener.received) == 1


def test_with_acknowledgement_a_later_success_redelivers_the_queued_failure(bare_sandbox, sandbox_member,
                                                                           connect_listener):
    admin = sandbox_member()
    _configure(bare_sandbox, admin, connect_listener.url, requiresAcknowledgement="true")
    envelope = _draft(admin)
    connect_listener.status = 500
    envelope_state.send(envelope)
    _flush(bare_sandbox)

    connect_listener.status = 200
    requests.post(f"{bare_sandbox.url}/_sandbox/recipients/{envelope.envelope_id}/1/sign", json={}, timeout=10)
    _flush(bare_sandbox)

    events = [(json.loads(m.body)["event"], json.loads(m.body)["retryCount"]) for m in connect_listener.received]
    assert events == [("envelope-sent", 0), ("envelope-completed", 0), ("envelope-sent", 1)]
    assert set(ConnectDelivery.objects.values_list("status", flat=True)) == {ConnectDelivery.DELIVERED}
