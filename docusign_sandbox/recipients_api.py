"""`/envelopes/{id}/recipients`: GET, and PUT to correct recipients who have not acted while the envelope is open.

PUT takes `recipients` groups (`signers`, `carbonCopies`) whose entries name an existing recipient by
`recipientId` and give the new `name`, `email`, `clientUserId` or (for one not yet reached) `routingOrder`.
The sandbox applies all or nothing: one recipient that cannot be changed refuses the whole request with 400, where
DocuSign reports it in that recipient's `errorDetails` (UNVERIFIED which DocuSign does for every error).
With `?resend_envelope=true` a corrected recipient whose turn it is is sent the envelope again (recipient-resent).
Reference: https://developers.docusign.com/docs/esign-rest-api/reference/envelopes/enveloperecipients/update/
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from . import clock, events, router
from .api import ApiError, Caller, json_response, read_json, rest_endpoint
from .envelopes import envelope_for
from .models import Envelope, Recipient
from .serializers import recipients_json

BODY_ERROR = "The request body is missing or improperly formatted."
OPEN_STATUSES = ("created", "sent", "delivered")
GROUPS = {"signers": "signer", "carbonCopies": "carbonCopy"}
CHANGEABLE = {"name": "name", "email": "email", "clientUserId": "client_user_id", "routingOrder": "routing_order"}


def _changes(item: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key, field in CHANGEABLE.items():
        value = item.get(key)
        if value is None:
            continue
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} '{key}' must be a string.")
        text = str(value).strip()
        if key == "email" and "@" not in text:
            raise ApiError("INVALID_EMAIL_ADDRESS_FOR_RECIPIENT", "The email address for the recipient is invalid. "
                           f"The recipient Id follows. {item.get('recipientId', '')}")
        if key == "name" and not text:
            raise ApiError("INVALID_USERNAME_FOR_RECIPIENT", "The user name for the recipient is invalid.")
        if key == "routingOrder":
            if not text.isdigit() or int(text) < 1:
                raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} 'routingOrder' must be a positive number.")
            changes[field] = int(text)
        else:
            changes[field] = text[:200]
    return changes


def _update(envelope: Envelope, body: dict[str, Any], resend: bool) -> list[Recipient]:
    groups = body.get("recipients", body)  # the SDK sends the Recipients object itself as the body
    if not isinstance(groups, dict):
        raise ApiError("INVALID_REQUEST_BODY", BODY_ERROR)
    stored = {r.recipient_id: r for r in Recipient.objects.select_for_update().filter(envelope=envelope)}
    changed: list[Recipient] = []
    for group, recipient_type in GROUPS.items():
        items = groups.get(group) or []
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} '{group}' must be a list of objects.")
        for item in items:
            recipient = stored.get(str(item.get("recipientId") or "").strip())
            if recipient is None or recipient.recipient_type != recipient_type:
                raise ApiError("INVALID_RECIPIENT_ID",  # UNVERIFIED wording
                               f"No {recipient_type} with recipientId '{item.get('recipientId', '')}' is on the envelope.")
            if recipient.status not in ("created", "sent", "delivered"):
                raise ApiError("RECIPIENT_UPDATE_FAILED",  # UNVERIFIED code: the sandbox's own wording
                               f"Recipient {recipient.recipient_id} has already acted ({recipient.status}) and cannot "
                               "be changed.")
            changes = _changes(item)
            if "routing_order" in changes and recipient.status != "created":
                raise ApiError("RECIPIENT_UPDATE_FAILED",  # UNVERIFIED code
                               f"Recipient {recipient.recipient_id} has been reached; its routing order cannot change.")
            for field, value in changes.items():
                setattr(recipient, field, value)
            recipient.save(update_fields=list(changes) or None)
            changed.append(recipient)
    now = clock.now()
    Envelope.objects.filter(pk=envelope.pk).update(last_modified_at=now)
    if resend:
        for recipient in changed:
            if recipient.status in ("sent", "delivered"):
                recipient.sent_at = now
                recipient.save(update_fields=["sent_at"])
                events.envelope_event(envelope, "recipient-resent", recipient)
    return changed


@rest_endpoint
@require_http_methods(["GET", "PUT"])
def recipients(request: HttpRequest, caller: Caller, envelope_id: str) -> HttpResponse:
    """GET /envelopes/{id}/recipients; PUT corrects recipients (recipientsUpdateSummary)."""
    envelope = envelope_for(caller, envelope_id)
    if request.method == "GET":
        return json_response(recipients_json(envelope))
    body = read_json(request)
    with transaction.atomic(using=router.database()):
        status = Envelope.objects.select_for_update().values_list("status", flat=True).get(pk=envelope.pk)
        if status not in OPEN_STATUSES:
            raise ApiError("ENVELOPE_INVALID_STATUS",  # UNVERIFIED code: the sandbox's own wording
                           f"Recipients cannot be changed on an envelope in the '{status}' state.")
        changed = _update(envelope, body, request.GET.get("resend_envelope", "").lower() == "true")
    return json_response({"recipientUpdateResults": [
        {"recipientId": r.recipient_id, "recipientIdGuid": r.recipient_id_guid,
         "errorDetails": {"errorCode": "SUCCESS", "message": ""}} for r in changed]})
