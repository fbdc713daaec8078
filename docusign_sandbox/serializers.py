"""The sandbox's models as DocuSign's eSignature v2.1 JSON (docs/docusign.md §6): camelCase, every scalar a string.

DocuSign leaves unset properties out of its responses rather than sending null, so do these. URIs are
relative to the account's REST base, as DocuSign writes them (`/envelopes/<id>/documents`).
"""

from __future__ import annotations

import uuid
from typing import Any

from . import clock, pdf
from .custom_fields import custom_fields_json
from .models import Document, Envelope, Membership, Recipient
from .workflow import workflow_json

# Recipient types as DocuSign groups them in `recipients` (the model stores the singular type).
RECIPIENT_GROUPS = {"signer": "signers", "carbonCopy": "carbonCopies"}
# DocuSign lists every group, empty or not.
ALL_RECIPIENT_GROUPS = ("agents", "carbonCopies", "certifiedDeliveries", "editors", "inPersonSigners",
                        "intermediaries", "notaries", "seals", "signers", "witnesses")


def as_string(value: object) -> str:
    """A scalar the way DocuSign writes it: booleans as "true"/"false", numbers as digits."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value not in (None, "")}


def envelope_uri(envelope: Envelope) -> str:
    return f"/envelopes/{envelope.envelope_id}"


def envelope_summary(envelope: Envelope) -> dict[str, Any]:
    """`envelopeSummary`, the answer to create-envelope."""
    return {"envelopeId": envelope.envelope_id, "status": envelope.status,
            "statusDateTime": clock.iso(envelope.status_changed_at), "uri": envelope_uri(envelope)}


def envelope_json(envelope: Envelope, include: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    """`envelope`, with `recipients` and `envelopeDocuments` when asked for with `?include=`."""
    uri = envelope_uri(envelope)
    sender = envelope.sender
    data = _compact({
        "envelopeId": envelope.envelope_id,
        "status": envelope.status,
        "emailSubject": envelope.email_subject,
        "emailBlurb": envelope.email_blurb,
        "createdDateTime": clock.iso(envelope.created_at),
        "sentDateTime": clock.iso(envelope.sent_at),
        # The sandbox has no resend, so the first send is the only one.
        "initialSentDateTime": clock.iso(envelope.sent_at),
        "deliveredDateTime": clock.iso(envelope.delivered_at),
        "completedDateTime": clock.iso(envelope.completed_at),
        "declinedDateTime": clock.iso(envelope.declined_at),
        "voidedDateTime": clock.iso(envelope.voided_at),
        "voidedReason": envelope.voided_reason,
        "statusChangedDateTime": clock.iso(envelope.status_changed_at),
        "lastModifiedDateTime": clock.iso(envelope.last_modified_at),
        "transactionId": envelope.transaction_id,
        "envelopeUri": uri,
        "documentsUri": f"{uri}/documents",
        "recipientsUri": f"{uri}/recipients",
        "attachmentsUri": f"{uri}/attachments",
        "documentsCombinedUri": f"{uri}/documents/combined",
        "certificateUri": f"{uri}/documents/certificate",
        "customFieldsUri": f"{uri}/custom_fields",
        "notificationUri": f"{uri}/notification",
    })
    data["sender"] = {"userName": sender.name, "userId": sender.user_id,
                      "accountId": envelope.account.account_id, "email": sender.email}
    if "recipients" in include:
        data["recipients"] = recipients_json(envelope)
    if "documents" in include:
        data["envelopeDocuments"] = documents_json(envelope)
    if "custom_fields" in include:
        data["customFields"] = custom_fields_json(envelope)
    if envelope.workflow:
        data["workflow"] = workflow_json(envelope)
    return data


def recipient_json(recipient: Recipient) -> dict[str, Any]:
    data = _compact({
        "recipientId": recipient.recipient_id,
        "recipientIdGuid": recipient.recipient_id_guid,
        "recipientType": recipient.recipient_type,
        "email": recipient.email,
        "name": recipient.name,
        "routingOrder": str(recipient.routing_order),
        "clientUserId": recipient.client_user_id,
        "roleName": recipient.role_name,
        "status": recipient.status,
        "sentDateTime": clock.iso(recipient.sent_at),
        "deliveredDateTime": clock.iso(recipient.delivered_at),
        "signedDateTime": clock.iso(recipient.signed_at),
        "declinedDateTime": clock.iso(recipient.declined_at),
        "declinedReason": recipient.declined_reason,
    })
    if recipient.tabs:
        data["tabs"] = recipient.tabs
    return data


def current_routing_order(recipients: list[Recipient]) -> int | None:
    """The lowest routing order that still has a signer to act (None when nobody is left to sign)."""
    waiting = [r.routing_order for r in recipients if r.recipient_type == "signer" and r.status != "completed"]
    return min(waiting) if waiting else None


def recipients_json(envelope: Envelope) -> dict[str, Any]:
    """`recipients`: every group DocuSign lists, plus recipientCount and currentRoutingOrder."""
    recipients = list(envelope.recipients.order_by("routing_order", "pk"))
    data: dict[str, Any] = {group: [] for group in ALL_RECIPIENT_GROUPS}
    for recipient in recipients:
        data[RECIPIENT_GROUPS[recipient.recipient_type]].append(recipient_json(recipient))
    data["recipientCount"] = str(len(recipients))
    order = current_routing_order(recipients)
    if order is not None:
        data["currentRoutingOrder"] = str(order)
    return data


def _guid_for(*parts: str) -> str:
    # Documents and pages have no stored GUID; a name-based UUID keeps the value stable across calls.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def _pages_json(document_guid: str, pages: int) -> list[dict[str, str]]:
    return [{"pageId": _guid_for(document_guid, str(n)), "sequence": str(n), "height": str(pdf.PAGE_HEIGHT),
             "width": str(pdf.PAGE_WIDTH), "dpi": "72"} for n in range(1, pages + 1)]


def document_json(envelope: Envelope, document: Document) -> dict[str, Any]:
    guid = _guid_for(envelope.envelope_id, document.document_id)
    content = bytes(document.content)
    return {
        "documentId": document.document_id, "documentIdGuid": guid, "name": document.name, "type": "content",
        "uri": f"{envelope_uri(envelope)}/documents/{document.document_id}", "order": str(document.order),
        "pages": _pages_json(guid, pdf.page_count(content)), "sizeBytes": str(len(content)),
        "display": "inline", "includeInDownload": "true", "signerMustAcknowledge": "no_interaction",
        "authoritativeCopy": "false", "containsPdfFormFields": "false",
        "availableDocumentTypes": [{"type": "electronic", "isDefault": "true"}],
    }


def certificate_entry(envelope: Envelope) -> dict[str, Any]:
    """The Certificate of Completion as DocuSign lists it among the documents (UNVERIFIED exact fields)."""
    guid = _guid_for(envelope.envelope_id, "certificate")
    return {
        "documentId": "certificate", "documentIdGuid": guid, "name": "Summary", "type": "summary",
        "uri": f"{envelope_uri(envelope)}/documents/certificate", "order": "999", "pages": _pages_json(guid, 1),
        "display": "inline", "includeInDownload": "true", "signerMustAcknowledge": "no_interaction",
        "authoritativeCopy": "false", "containsPdfFormFields": "false",
        "availableDocumentTypes": [{"type": "electronic", "isDefault": "true"}],
    }


def documents_json(envelope: Envelope) -> list[dict[str, Any]]:
    entries = [document_json(envelope, d) for d in envelope.documents.order_by("order", "pk")]
    return [*entries, certificate_entry(envelope)]


def user_json(membership: Membership, permission_profile_id: str) -> dict[str, Any]:
    """`userInformation` of one account member (docs/docusign.md §8)."""
    user = membership.user
    return {
        "userId": user.user_id, "userName": user.name, "email": user.email,
        "userStatus": "Active" if user.is_active else "Closed", "userType": "CompanyUser",
        "isAdmin": as_string(membership.is_admin),
        "permissionProfileId": permission_profile_id, "permissionProfileName": membership.permission_profile,
        "groupList": [], "userSettings": {k: as_string(v) for k, v in membership.user_settings.items()},
        "createdDateTime": clock.iso(user.created), "uri": f"/users/{user.user_id}",
    }
