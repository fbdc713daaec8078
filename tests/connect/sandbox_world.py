"""Driving the sandbox's DocuSign side for Connect tests: configurations, envelopes, and deliveries' exact bytes.

The sandbox and the portal share the test database, so envelopes are made with the sandbox's ORM and moved through
its own state machine (`envelope_state`), which records the Connect deliveries DocuSign would send.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone

from docusign_integration.connect.hmac import connect_hmac_key_add
from docusign_integration.models import ConnectHMACKey
from docusign_sandbox import connect_delivery
from docusign_sandbox.models import Account, ConnectConfiguration, ConnectDelivery, Document, Envelope, Recipient, User
from docusign_sandbox.seed import ACME

SIM_EVENTS = ["envelope-sent", "envelope-delivered", "envelope-completed", "envelope-declined", "envelope-voided",
              "recipient-sent", "recipient-delivered", "recipient-completed", "recipient-declined"]


def import_partner_keys(seed: dict) -> list[ConnectHMACKey]:
    """The portal side of `seed_demo`: the sandbox partner account's keys stored as partner ConnectHMACKeys."""
    return [connect_hmac_key_add(acting_user=None, environment="sandbox", label=f"Partner key {k['key_id'][:8]}",
                                 secret=k["secret"], key_id=k["key_id"]) for k in seed["hmac_keys"]]


def acme() -> Account:
    return Account.objects.get(account_id=ACME.account_id)


def connect_configuration(account: Account, url: str, **fields: Any) -> ConnectConfiguration:
    """An account-level JSON SIM configuration signed with the partner's keys (integratorManaged)."""
    body = {"configurationType": "custom", "name": "Portal", "urlToPublishTo": url, "allowEnvelopePublish": "true",
            "allUsers": "true", "deliveryMode": "SIM", "events": SIM_EVENTS, "includeHMAC": "true",
            "integratorManaged": "true", "requiresAcknowledgement": "true",
            "eventData": {"version": "restv2.1", "format": "json", "includeData": ["recipients"]}, **fields}
    return ConnectConfiguration.objects.create(account=account, body=body)


def draft_envelope(account: Account, *, signers: int = 1, subject: str = "Please sign") -> Envelope:
    now = timezone.now()
    sender = User.objects.filter(memberships__account=account).order_by("pk").first()
    envelope = Envelope.objects.create(account=account, sender=sender, email_subject=subject, created_at=now,
                                       status_changed_at=now, last_modified_at=now)
    Document.objects.create(envelope=envelope, document_id="1", name="Agreement", content=b"%PDF-1.4")
    for n in range(1, signers + 1):
        Recipient.objects.create(envelope=envelope, recipient_id=str(n), email=f"signer{n}@example.com",
                                 name=f"Signer {n}", routing_order=n)
    return envelope


def delivery_request(delivery: ConnectDelivery, retry_count: int | None = None) -> tuple[bytes, dict[str, str]]:
    """The bytes and headers the sandbox sends for `delivery` (connect_delivery.send), for re-POSTing it."""
    payload = {**delivery.payload, "retryCount": delivery.attempts if retry_count is None else retry_count}
    body = json.dumps(payload, separators=(",", ":")).encode()
    sender_id = Envelope.objects.filter(envelope_id=delivery.envelope_id).values_list("sender_id", flat=True).first()
    headers = {"Content-Type": "application/json", "X-DocuSign-AccountId": delivery.account.account_id,
               **connect_delivery.signature_headers(connect_delivery.signing_account(delivery.configuration, sender_id),
                                                    body)}
    return body, headers
