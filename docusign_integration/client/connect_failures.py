"""Connect failures of one account and their republishing (docs/docusign.md §7.1, §7.5): the two calls the portal makes.

DocuSign keeps a failed Connect message queued for the account; when the listener was down (or refused a message),
`GET /connect/failures` lists them and `PUT /connect/envelopes/retry_queue` asks DocuSign to send them again. Both
need an account admin; the system user is one for the portal's client accounts.
"""

from __future__ import annotations

from typing import Any

from docusign_integration.client import http
from docusign_integration.client.ids import is_guid
from docusign_integration.client.rest import AccountRef, rest_call


def connect_failures_list(ref: AccountRef, *, bearer: str) -> list[dict[str, Any]]:
    """The account's failed Connect messages (connectLog items: failureId, envelopeId, error, retryCount, ...).

    Reference: https://developers.docusign.com/docs/esign-rest-api/reference/connect/connectevents/listeventfailurelogs/
    """
    body = http.json_or_raise(rest_call(ref, "GET", "/connect/failures", bearer=bearer, idempotent=True))
    failures = body.get("failures") or []
    return [item for item in failures if isinstance(item, dict)] if isinstance(failures, list) else []


def connect_envelopes_retry_queue(ref: AccountRef, envelope_ids: list[str], *, bearer: str) -> list[dict[str, Any]]:
    """Republish the failed messages of `envelope_ids`; returns DocuSign's retryQueue items (one per message).

    Reference: https://developers.docusign.com/docs/esign-rest-api/reference/connect/connectevents/retryforenvelopes/
    """
    ids = [envelope_id for envelope_id in envelope_ids if is_guid(envelope_id)]
    if not ids:
        return []
    # Republishing twice only queues the same messages again, which the listener deduplicates: safe to retry.
    body = http.json_or_raise(rest_call(ref, "PUT", "/connect/envelopes/retry_queue", bearer=bearer,
                                        json={"envelopeIds": ids}, idempotent=True))
    queued = body.get("retryQueue") or []
    return [item for item in queued if isinstance(item, dict)] if isinstance(queued, list) else []
