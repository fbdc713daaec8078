"""Connect delivery: the JSON SIM message, its HMAC signatures, and the background sender.

See docs/docusign.md §7.3-§7.5. The sandbox is its own service, so delivery runs in a daemon thread of the sandbox
process fed by a small queue (no Celery). A delivery is queued only after the transaction that recorded it
commits, then POSTed with the exact bytes that were signed.

Retry policy (simplified from docs/docusign.md §7.5, where DocuSign's text is vague):
- A failed delivery stays `failed` and appears in `GET /connect/failures`; `retry_queue` republishes it.
- With `requiresAcknowledgement` "true", a later successful message to the same configuration republishes
  that configuration's failed deliveries at once, oldest first, up to MAX_AUTOMATIC_RETRIES each. DocuSign's
  once-a-day retry and the "configuration down, new messages Pending" state are not emulated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from collections.abc import Mapping
from typing import Any

import requests
from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabaseWrapper

from . import clock, router
from .custom_fields import custom_fields_json
from .models import AccessToken, Account, ConnectConfiguration, ConnectDelivery, Envelope, HMACKey, IntegrationKey, Recipient

logger = logging.getLogger(__name__)

# The listener must answer 2xx within 100 seconds (docs/docusign.md §7.5); tests set DOCUSIGN_SANDBOX_CONNECT_TIMEOUT lower.
DEFAULT_TIMEOUT_SECONDS = 100.0
MAX_AUTOMATIC_RETRIES = 10
ERROR_TEXT_LIMIT = 500

# recipient_type -> the collection name of DocuSign's `recipients` object.
RECIPIENT_COLLECTIONS = {
    "signer": "signers", "carbonCopy": "carbonCopies", "certifiedDelivery": "certifiedDeliveries",
    "agent": "agents", "editor": "editors", "intermediary": "intermediaries", "inPersonSigner": "inPersonSigners",
    "witness": "witnesses", "seal": "seals",
}


# --- The JSON SIM message (docs/docusign.md §7.3) -------------------------------------------------------------------------


def sim_message(configuration: ConnectConfiguration, envelope: Envelope, event: str,
                recipient: Recipient | None = None) -> dict[str, Any]:
    """The SIM message for one configuration; `retryCount` is filled in at send time."""
    account_id = envelope.account.account_id
    data: dict[str, Any] = {"accountId": account_id, "userId": envelope.sender.user_id, "envelopeId": envelope.envelope_id}
    if recipient is not None and event.startswith("recipient-"):
        data["recipientId"] = recipient.recipient_id
    data["envelopeSummary"] = envelope_summary(envelope, include_data(configuration))
    return {
        "event": event,
        "apiVersion": "v2.1",
        "uri": f"/restapi/v2.1/accounts/{account_id}/envelopes/{envelope.envelope_id}",
        "retryCount": 0,
        "configurationId": int(configuration.pk),
        "generatedDateTime": clock.iso(clock.now()),
        "data": data,
    }


def include_data(configuration: ConnectConfiguration) -> set[str]:
    event_data = configuration.body.get("eventData") or {}
    return set(event_data.get("includeData") or [])


def envelope_summary(envelope: Envelope, included: set[str]) -> dict[str, Any]:
    """Status, subject, dates and sender always; recipients, custom fields, documents when `includeData` asks."""
    base = f"/envelopes/{envelope.envelope_id}"
    dates = {
        "createdDateTime": envelope.created_at, "sentDateTime": envelope.sent_at,
        "deliveredDateTime": envelope.delivered_at, "completedDateTime": envelope.completed_at,
        "declinedDateTime": envelope.declined_at, "voidedDateTime": envelope.voided_at,
        "statusChangedDateTime": envelope.status_changed_at, "lastModifiedDateTime": envelope.last_modified_at,
    }
    summary: dict[str, Any] = {
        "status": envelope.status, "emailSubject": envelope.email_subject, "envelopeId": envelope.envelope_id,
        **{name: clock.iso(value) for name, value in dates.items() if value is not None},
        "documentsUri": f"{base}/documents", "recipientsUri": f"{base}/recipients",
        "documentsCombinedUri": f"{base}/documents/combined", "certificateUri": f"{base}/documents/certificate",
        "sender": {"userName": envelope.sender.name, "userId": envelope.sender.user_id,
                   "accountId": envelope.account.account_id, "email": envelope.sender.email},
    }
    if envelope.status == "voided":
        summary["voidedReason"] = envelope.voided_reason
    if "recipients" in included:
        summary["recipients"] = recipients_summary(envelope)
    if "custom_fields" in included:
        summary["customFields"] = custom_fields_json(envelope)
    if "documents" in included:
        summary["envelopeDocuments"] = [
            {"documentId": d.document_id, "name": d.name, "type": "content", "order": str(d.order),
             "uri": f"{base}/documents/{d.document_id}"}
            for d in envelope.documents.order_by("order", "pk")
        ]
    return summary


def recipients_summary(envelope: Envelope) -> dict[str, Any]:
    collections: dict[str, list[dict[str, str | None]]] = {name: [] for name in RECIPIENT_COLLECTIONS.values()}
    recipients = list(envelope.recipients.order_by("routing_order", "pk"))
    for r in recipients:
        item: dict[str, str | None] = {
            "recipientId": r.recipient_id, "recipientIdGuid": r.recipient_id_guid, "email": r.email, "name": r.name,
            "routingOrder": str(r.routing_order), "status": r.status,
        }
        if r.client_user_id:
            item["clientUserId"] = r.client_user_id
        for name, value in (("sentDateTime", r.sent_at), ("deliveredDateTime", r.delivered_at),
                            ("signedDateTime", r.signed_at), ("declinedDateTime", r.declined_at)):
            if value is not None:
                item[name] = clock.iso(value)
        if r.declined_reason:
            item["declinedReason"] = r.declined_reason
        collections[RECIPIENT_COLLECTIONS.get(r.recipient_type, "signers")].append(item)
    return {**collections, "recipientCount": str(len(recipients))}


# --- HMAC (docs/docusign.md §7.4) -----------------------------------------------------------------------------------------


def hmac_signature(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, body)): the value of one `X-DocuSign-Signature-N` header."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode("ascii")


def signing_account(configuration: ConnectConfiguration, envelope_sender_id: int | None) -> Account | None:
    """Whose HMAC keys sign this configuration's messages: the account's own, or the partner's.

    For `integratorManaged` "true" the keys are those of the integration key's partner account (docs/docusign.md §7.4). The
    sandbox does not record which integration key created a configuration, so it takes the integration key
    the envelope's sender last used (how the envelope reached DocuSign); failing that, the only integration
    key that has a partner account. No partner account: unsigned, and the listener must refuse it.
    """
    if configuration.body.get("integratorManaged") != "true":
        return configuration.account
    token = (AccessToken.objects.filter(user_id=envelope_sender_id, integration_key__partner_account__isnull=False)
             .select_related("integration_key__partner_account").order_by("-created", "-pk").first()
             if envelope_sender_id is not None else None)
    if token is not None:
        return token.integration_key.partner_account
    partners = list(IntegrationKey.objects.filter(partner_account__isnull=False).select_related("partner_account")[:2])
    return partners[0].partner_account if len(partners) == 1 else None


def signature_headers(account: Account | None, body: bytes) -> dict[str, str]:
    if account is None:
        return {}
    keys = HMACKey.objects.filter(account=account, active=True).order_by("created", "pk")
    signatures = {f"X-DocuSign-Signature-{n}": hmac_signature(k.secret, body) for n, k in enumerate(keys, start=1)}
    return {"X-Authorization-Digest": "HMACSHA256", **signatures} if signatures else {}


# --- The background sender -------------------------------------------------------------------------------


class _Job:
    """A delivery to send, with the in-memory SQLite connections of the thread that queued it (tests only)."""

    def __init__(self, delivery_id: int) -> None:
        self.delivery_id = delivery_id
        # In-memory SQLite is per connection: share the queuing thread's, as Django's live server does.
        self.connections = {c.alias: c for c in connections.all()
                            if isinstance(c, SQLiteDatabaseWrapper) and c.is_in_memory_db()}


_queue: queue.Queue[_Job] = queue.Queue()
_worker_lock = threading.Lock()
_worker: threading.Thread | None = None


def enqueue_on_commit(delivery_id: int) -> None:
    """Send the delivery once the transaction that recorded it commits."""
    transaction.on_commit(lambda: enqueue(delivery_id), using=router.database())


def enqueue(delivery_id: int) -> None:
    global _worker
    _queue.put(_Job(delivery_id))
    with _worker_lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="sandbox-connect-sender", daemon=True)
            _worker.start()


def flush(timeout: float) -> bool:
    """Wait until every queued delivery has been attempted; False if `timeout` seconds passed first."""
    deadline = time.monotonic() + timeout
    with _queue.all_tasks_done:
        while _queue.unfinished_tasks:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            _queue.all_tasks_done.wait(remaining)
    return True


def _work() -> None:
    while True:
        job = _queue.get()
        try:
            _use_connections(job.connections)
            send(job.delivery_id)
        except Exception:  # one bad delivery must not stop the sender
            logger.exception("Connect delivery %s could not be attempted", job.delivery_id)
        finally:
            close_old_connections()
            _queue.task_done()


def _use_connections(shared: Mapping[str, BaseDatabaseWrapper]) -> None:
    for alias, conn in shared.items():
        connections[alias] = conn


def timeout_seconds() -> float:
    return float(getattr(settings, "DOCUSIGN_SANDBOX_CONNECT_TIMEOUT", DEFAULT_TIMEOUT_SECONDS))


def send(delivery_id: int) -> None:
    """POST one delivery to its listener and record the outcome."""
    delivery = (ConnectDelivery.objects.select_related("configuration", "account")
                .filter(pk=delivery_id).first())
    if delivery is None or delivery.status in (ConnectDelivery.DELIVERED, ConnectDelivery.DROPPED):
        return
    if delivery.configuration is None:  # the configuration was deleted while the message waited
        _record_failure(delivery, None, "The Connect configuration no longer exists.")
        return
    payload = {**delivery.payload, "retryCount": delivery.attempts}
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "X-DocuSign-AccountId": delivery.account.account_id}
    if delivery.configuration.body.get("includeHMAC") == "true":
        sender_id = Envelope.objects.filter(envelope_id=delivery.envelope_id).values_list("sender_id", flat=True).first()
        headers.update(signature_headers(signing_account(delivery.configuration, sender_id), body))
    delivery.attempts += 1
    delivery.last_attempt_at = clock.now()
    try:
        response = requests.post(delivery.url, data=body, headers=headers, timeout=timeout_seconds(),
                                 allow_redirects=False)
    except requests.RequestException as exc:
        _record_failure(delivery, None, f"{type(exc).__name__}: {exc}")
        return
    if 200 <= response.status_code < 300:
        delivery.status, delivery.last_status_code, delivery.last_error = ConnectDelivery.DELIVERED, response.status_code, ""
        delivery.save()
        _retry_after_success(delivery)
    else:
        _record_failure(delivery, response.status_code, f"The listener answered HTTP {response.status_code}.")


def _record_failure(delivery: ConnectDelivery, status_code: int | None, error: str) -> None:
    delivery.status, delivery.last_status_code = ConnectDelivery.FAILED, status_code
    delivery.last_error = error[:ERROR_TEXT_LIMIT]
    delivery.save()


def _retry_after_success(delivery: ConnectDelivery) -> None:
    """A message got through: republish the configuration's queued failures, oldest first (docs/docusign.md §7.5)."""
    configuration = delivery.configuration
    if configuration is None or configuration.body.get("requiresAcknowledgement") != "true":
        return
    waiting = (ConnectDelivery.objects.filter(configuration=configuration, status=ConnectDelivery.FAILED,
                                              attempts__lte=MAX_AUTOMATIC_RETRIES)
               .order_by("created", "pk").values_list("pk", flat=True))
    for delivery_id in waiting:
        enqueue(delivery_id)


def republish(deliveries: list[ConnectDelivery]) -> None:
    """Put failed deliveries back on the queue (retry_queue): pending, so no longer listed as failures."""
    ConnectDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(status=ConnectDelivery.PENDING)
    for delivery in deliveries:
        enqueue_on_commit(delivery.pk)
