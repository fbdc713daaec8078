"""eSignature REST v2.1 envelope calls: create a draft, the sender and recipient views, status changes, documents.

Small functions, one DocuSign operation each, through `rest.rest_call` (so `http.call`'s timeouts, retries and
rate-limit bookkeeping apply). Every id is checked before it becomes part of a URL (docs/security.md BI-3).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from docusign_integration.client import http
from docusign_integration.client.conf import DEMO, SANDBOX
from docusign_integration.client.errors import BadResponse
from docusign_integration.client.ids import require_document_id, require_guid
from docusign_integration.client.rest import AccountRef, rest_call, rest_download

LIST_PAGE_SIZE = 100
# An envelopesInformation page of LIST_PAGE_SIZE envelopes with their recipients stays far below this.
LIST_MAX_BYTES = 8 * 1_048_576


def _url_from(body: dict[str, Any]) -> str:
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise BadResponse("DocuSign's view answer has no URL.", error_code="UNEXPECTED_SHAPE")
    return url


def create_envelope(ref: AccountRef, *, bearer: str, definition: dict[str, Any]) -> dict[str, Any]:
    """POST /envelopes: create the envelope (a draft unless `definition["status"]` is "sent"); its envelopeSummary."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/envelopes/envelopes/create/
    # Never retried: a lost answer would otherwise create a second envelope (http.call retries only idempotent calls).
    body = http.json_or_raise(rest_call(ref, "POST", "/envelopes", bearer=bearer, json=definition))
    require_guid(body.get("envelopeId"), "envelope id in DocuSign's answer")
    return body


def create_sender_view(ref: AccountRef, envelope_id: str, *, bearer: str, return_url: str,
                       starting_screen: str = "Tagger") -> str:
    """POST /envelopes/{id}/views/sender with the 2024 `envelopeViewRequest` body; the one-time URL."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/envelopes/envelopeviews/createsender/
    require_guid(envelope_id, "envelope id")
    request = {
        "returnUrl": return_url,
        "viewAccess": "envelope",
        "settings": {
            "startingScreen": starting_screen,
            "sendButtonAction": "send",
            "showBackButton": "false",
            "showHeaderActions": "false",
            "showDiscardAction": "false",
            "recipientSettings": {"showEditRecipients": "false", "showContactsList": "false"},
            "documentSettings": {"showEditDocuments": "false", "showEditDocumentVisibility": "false"},
        },
    }
    # A view URL is one-time: a retried POST after a lost answer only issues another one, so retrying is safe.
    response = rest_call(ref, "POST", f"/envelopes/{envelope_id}/views/sender", bearer=bearer, json=request, idempotent=True)
    return _url_from(http.json_or_raise(response))


def create_recipient_view(ref: AccountRef, envelope_id: str, *, bearer: str, return_url: str, client_user_id: str,
                          email: str, user_name: str, recipient_id: str | None = None,
                          frame_ancestors: list[str] | None = None, message_origins: list[str] | None = None) -> str:
    """POST /envelopes/{id}/views/recipient for an embedded signer (clientUserId); the 5-minute signing URL.

    With `frame_ancestors` and `message_origins` it is DocuSign's focused view: the URL may be framed by those origins
    and posts its events to them (Reference:
    https://developers.docusign.com/docs/esign-rest-api/how-to/request-signature-focused-view/).
    """
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/envelopes/envelopeviews/createrecipient/
    require_guid(envelope_id, "envelope id")
    request: dict[str, Any] = {
        "returnUrl": return_url,
        # The portal authenticated the person itself (they are signed in), which is what "None" declares.
        "authenticationMethod": "None",
        "clientUserId": client_user_id,
        "email": email,
        "userName": user_name,
    }
    if recipient_id:
        request["recipientId"] = recipient_id
    if frame_ancestors:
        # DocuSign's own signing origin must be among both lists, as its focused view guide's example shows.
        docusign_origin = focused_view_origin(ref.environment)
        request["frameAncestors"] = [*frame_ancestors, docusign_origin]
        request["messageOrigins"] = [docusign_origin, *(message_origins or [])]
    response = rest_call(ref, "POST", f"/envelopes/{envelope_id}/views/recipient", bearer=bearer, json=request,
                         idempotent=True)
    return _url_from(http.json_or_raise(response))


def focused_view_origin(environment: str) -> str:
    """The origin DocuSign serves the signing page from (apps-d for demo); the sandbox serves its own."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/how-to/request-signature-focused-view/
    if environment == SANDBOX:
        return str(settings.DOCUSIGN_SANDBOX_URL).rstrip("/")
    return {DEMO: "https://apps-d.docusign.com"}.get(environment, "https://apps.docusign.com")


def void_envelope(ref: AccountRef, envelope_id: str, *, bearer: str, reason: str) -> None:
    """PUT /envelopes/{id} with status "voided": DocuSign cancels the sent envelope; recipients can no longer sign."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/envelopes/envelopes/update/
    require_guid(envelope_id, "envelope id")
    http.json_or_raise(rest_call(ref, "PUT", f"/envelopes/{envelope_id}", bearer=bearer,
                                 json={"status": "voided", "voidedReason": reason}))


def resend_envelope(ref: AccountRef, envelope_id: str, *, bearer: str) -> None:
    """PUT /envelopes/{id}?resend_envelope=true: DocuSign sends its notification again to the current recipients."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/envelopes/envelopes/update/
    # (the `resend_envelope` query parameter; an empty body changes nothing else).
    require_guid(envelope_id, "envelope id")
    http.json_or_raise(rest_call(ref, "PUT", f"/envelopes/{envelope_id}", bearer=bearer,
                                 params={"resend_envelope": "true"}, json={}))


def docusign_datetime(value: datetime) -> str:
    """A DateTime query value in UTC with an explicit offset, as docs/docusign.md §6.3 recommends."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def list_status_changes(ref: AccountRef, *, bearer: str, from_date: datetime, to_date: datetime | None = None,
                        start_position: int = 0, count: int = LIST_PAGE_SIZE,
                        custom_fields: bool = False) -> dict[str, Any]:
    """GET /envelopes?from_date=...: one page of the envelopes whose status changed in the window, with recipients
    (and their custom fields when `custom_fields`: the ISV account's listing is routed by them)."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/envelopes/envelopes/liststatuschanges/
    params = {
        "from_date": docusign_datetime(from_date),
        "from_to_status": "changed",
        "include": "recipients,custom_fields" if custom_fields else "recipients",
        "order": "asc",
        "start_position": str(start_position),
        "count": str(count),
    }
    if to_date is not None:
        params["to_date"] = docusign_datetime(to_date)
    response = rest_call(ref, "GET", "/envelopes", bearer=bearer, params=params, max_bytes=LIST_MAX_BYTES)
    return http.json_or_raise(response)


def list_documents(ref: AccountRef, envelope_id: str, *, bearer: str) -> list[dict[str, Any]]:
    """GET /envelopes/{id}/documents: the envelope's documents (and the certificate entry)."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/envelopes/envelopedocuments/list/
    require_guid(envelope_id, "envelope id")
    body = http.json_or_raise(rest_call(ref, "GET", f"/envelopes/{envelope_id}/documents", bearer=bearer))
    documents = body.get("envelopeDocuments")
    if not isinstance(documents, list):
        raise BadResponse("DocuSign's document list has no envelopeDocuments.", error_code="UNEXPECTED_SHAPE")
    return [d for d in documents if isinstance(d, dict)]


def download_document(ref: AccountRef, envelope_id: str, document_id: str, *, bearer: str,
                      max_bytes: int) -> http.Download:
    """GET /envelopes/{id}/documents/{documentId}, body unread: iterate the chunks, then close it."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/envelopes/envelopedocuments/get/
    require_guid(envelope_id, "envelope id")
    require_document_id(document_id)
    # certificate=false keeps `combined` to the signed documents whatever attachCompletedEnvelope says:
    # the certificate is downloaded on its own.
    params = {"certificate": "false"} if document_id == "combined" else None
    return rest_download(ref, f"/envelopes/{envelope_id}/documents/{document_id}", bearer=bearer, params=params,
                         headers={"Accept": "application/pdf"}, max_bytes=max_bytes)
