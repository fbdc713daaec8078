"""Envelopes: create, get, list status changes, recipients, and update (send a draft, void): docs/docusign.md §6.1, §6.3, §6.4.

Reference: https://developers.docusign.com/docs/esign-rest-api/reference/envelopes/envelopes/
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.db.models import Q, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from portal.request_size import max_request_body

from . import clock, composition, conversion, custom_fields, envelope_state, events, multipart, router, workflow
from .api import ApiError, Caller, json_response, read_json, rest_endpoint
from .models import Document, Envelope, Recipient
from .serializers import envelope_json, envelope_summary

# DocuSign's cap on one API request (35,651,584 bytes, ~34 MB); the project's DATA_UPLOAD_MAX_MEMORY_SIZE
# is sized for the portal's own forms, so this view reads the body itself under this cap.
MAX_REQUEST_BYTES = 35_651_584
MAX_DOCUMENT_BYTES = 25 * 1024 * 1024
MAX_RECIPIENTS = 100  # docs/docusign.md §6.1
BODY_ERROR = "The request body is missing or improperly formatted."
ENVELOPE_DOES_NOT_EXIST = "The envelope specified either does not exist or you have no rights to the envelope."


def envelope_for(caller: Caller, envelope_id: str) -> Envelope:
    """The caller's account's envelope, or ENVELOPE_DOES_NOT_EXIST.

    The HTTP status is UNVERIFIED (404 has been seen); the spec documents 400 for every error, so 400.
    Another account's envelope gets the same answer, so its existence does not leak.
    """
    envelope = (Envelope.objects.select_related("account", "sender")
                .filter(account=caller.account, envelope_id__iexact=envelope_id).first())
    if envelope is None:
        raise ApiError("ENVELOPE_DOES_NOT_EXIST", ENVELOPE_DOES_NOT_EXIST)
    return envelope


def include_set(request: HttpRequest) -> set[str]:
    return {part.strip() for part in request.GET.get("include", "").split(",") if part.strip()}


def _read_definition(request: HttpRequest) -> dict[str, Any]:
    """The envelopeDefinition body, read with DocuSign's request cap rather than the portal's form cap."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_REQUEST_BYTES:
        raise ApiError("INVALID_REQUEST_BODY", f"The request exceeds the maximum size of {MAX_REQUEST_BYTES} bytes.")
    if request.content_type == "multipart/form-data":
        return multipart.read_definition(request, MAX_REQUEST_BYTES)
    try:
        body = json.loads(request.read(MAX_REQUEST_BYTES + 1) or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError("INVALID_REQUEST_BODY", BODY_ERROR) from exc
    if not isinstance(body, dict):
        raise ApiError("INVALID_REQUEST_BODY", BODY_ERROR)
    return body


def _text(data: dict[str, Any], key: str) -> str:
    """A scalar property as DocuSign reads it: strings, or numbers sent unquoted."""
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} '{key}' must be a string.")
    return str(value).strip()


def _documents(definition: dict[str, Any]) -> list[Document]:
    documents = definition.get("documents") or []
    if not isinstance(documents, list):
        raise ApiError("INVALID_REQUEST_BODY", BODY_ERROR)
    parsed = []
    for position, item in enumerate(documents, start=1):
        if not isinstance(item, dict):
            raise ApiError("INVALID_REQUEST_BODY", BODY_ERROR)
        document_id, name = _text(item, "documentId"), _text(item, "name")
        if not document_id or not name:
            raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} Each document needs a 'documentId' and a 'name'.")
        extension = (_text(item, "fileExtension") or name.rpartition(".")[2]).lower().lstrip(".")
        try:
            content = base64.b64decode(_text(item, "documentBase64"), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} 'documentBase64' of document {document_id} "
                           "is not valid base64.") from exc
        if len(content) > MAX_DOCUMENT_BYTES:
            raise ApiError("DOCUMENT_SIZE_LIMIT_EXCEEDED",  # UNVERIFIED code; the 25 MB limit is DocuSign's
                           f"Document {document_id} exceeds the maximum document size of 25 MB.")
        content = conversion.to_pdf(document_id, extension, content)
        order = _text(item, "order")
        parsed.append(Document(document_id=document_id, name=name, file_extension=extension, content=content,
                               order=int(order) if order.isdigit() else position))
    return parsed


def _recipients(definition: dict[str, Any]) -> list[Recipient]:
    groups = definition.get("recipients") or {}
    if not isinstance(groups, dict):
        raise ApiError("INVALID_REQUEST_BODY", BODY_ERROR)
    parsed = []
    for group, recipient_type in (("signers", "signer"), ("carbonCopies", "carbonCopy")):
        items = groups.get(group) or []
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ApiError("INVALID_REQUEST_BODY", BODY_ERROR)
        for item in items:
            recipient_id, email, name = _text(item, "recipientId"), _text(item, "email"), _text(item, "name")
            if "@" not in email:
                raise ApiError("INVALID_EMAIL_ADDRESS_FOR_RECIPIENT", "The email address for the recipient is "
                               f"invalid. The recipient Id follows. Envelope definition is missing an email "
                               f"address for recipientId: {recipient_id}")
            if not name:
                raise ApiError("INVALID_USERNAME_FOR_RECIPIENT", "The user name for the recipient is invalid. "
                               f"Envelope definition is missing a UserName for recipientId: {recipient_id}")
            routing_order = _text(item, "routingOrder") or "1"
            if not recipient_id or not routing_order.isdigit():
                raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} Each recipient needs a 'recipientId' and "
                               "a numeric 'routingOrder'.")
            tabs = item.get("tabs") or {}
            parsed.append(Recipient(recipient_id=recipient_id, recipient_type=recipient_type, email=email,
                                    name=name, routing_order=int(routing_order),
                                    client_user_id=_text(item, "clientUserId"), role_name=_text(item, "roleName")[:100],
                                    tabs=tabs if isinstance(tabs, dict) else {}))
    if len(parsed) > MAX_RECIPIENTS:
        raise ApiError("MAX_RECIPIENTS_EXCEEDED",  # UNVERIFIED code; the limit of 100 is DocuSign's
                       f"An envelope may have at most {MAX_RECIPIENTS} recipients.")
    return parsed


LIST_PARAMETER_MESSAGE = ("The request contained at least one invalid parameter. Query parameter 'from_date' must be set "
                          "to a valid DateTime, or 'envelope_ids' or 'transaction_ids' must be specified.")
STATUSES = ("created", "sent", "delivered", "signed", "completed", "declined", "voided", "deleted", "timedout",
            "processing")
# from_to_status: which date must fall in [from_date, to_date]. "changed" (the default) is handled apart;
# the sandbox never deletes, times out or processes, so those values match nothing.
STATUS_DATE_FIELDS = {"created": "created_at", "sent": "sent_at", "delivered": "delivered_at",
                      "signed": "completed_at", "completed": "completed_at", "declined": "declined_at",
                      "voided": "voided_at"}
DEFAULT_COUNT, MAX_COUNT = 100, 1000  # the default is UNVERIFIED (docs/docusign.md §12)


def _invalid_parameter(name: str) -> ApiError:
    return ApiError("INVALID_REQUEST_PARAMETER",
                    f"The request contained at least one invalid parameter. Invalid value for '{name}'.")


def _date_param(request: HttpRequest, name: str) -> datetime | None:
    """A DateTime query value; without an offset it is in the server's time zone (UTC here)."""
    value = request.GET.get(name, "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        if name == "from_date":
            raise ApiError("INVALID_REQUEST_PARAMETER", LIST_PARAMETER_MESSAGE) from exc
        raise _invalid_parameter(name) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _int_param(request: HttpRequest, name: str, default: int) -> int:
    value = request.GET.get(name, "").strip() or str(default)
    if not value.isdigit():
        raise _invalid_parameter(name)
    return int(value)


def _list_param(request: HttpRequest, name: str) -> list[str]:
    return [part.strip() for part in request.GET.get(name, "").split(",") if part.strip()]


def _page_uri(request: HttpRequest, start: int) -> str:
    query = request.GET.copy()
    query["start_position"] = str(start)
    return "/envelopes?" + urlencode(sorted(query.lists()), doseq=True)


def list_status_changes(request: HttpRequest, caller: Caller) -> HttpResponse:
    """GET /envelopes: the envelopes whose status changed in a window, or named by id (docs/docusign.md §6.3)."""
    from_date, to_date = _date_param(request, "from_date"), _date_param(request, "to_date")
    envelope_ids, transaction_ids = _list_param(request, "envelope_ids"), _list_param(request, "transaction_ids")
    if from_date is None and not envelope_ids and not transaction_ids:
        raise ApiError("INVALID_REQUEST_PARAMETER", LIST_PARAMETER_MESSAGE)
    count = min(_int_param(request, "count", DEFAULT_COUNT), MAX_COUNT)
    start = _int_param(request, "start_position", 0)
    order = request.GET.get("order", "asc").lower()
    if order not in ("asc", "desc"):
        raise _invalid_parameter("order")
    statuses = [s.lower() for s in _list_param(request, "status")]
    if any(s not in STATUSES and s != "any" for s in statuses):
        raise _invalid_parameter("status")
    from_to_status = request.GET.get("from_to_status", "changed").lower()
    if from_to_status != "changed" and from_to_status not in STATUSES:
        raise _invalid_parameter("from_to_status")

    found = Envelope.objects.filter(account=caller.account).select_related("account", "sender")
    found = custom_fields.filter_envelopes(found, request)
    if envelope_ids:
        found = found.filter(envelope_id__in=envelope_ids)
    if transaction_ids:
        found = found.filter(transaction_id__in=transaction_ids)
    if statuses and "any" not in statuses:
        found = found.filter(status__in=statuses)
    if from_to_status == "changed":
        if from_date is not None:
            found = found.filter(Q(status_changed_at__gte=from_date) | Q(last_modified_at__gte=from_date))
        if to_date is not None:
            found = found.filter(status_changed_at__lte=to_date)
    elif from_to_status in STATUS_DATE_FIELDS:
        field = STATUS_DATE_FIELDS[from_to_status]
        found = found.filter(**{f"{field}__isnull": False})
        if from_date is not None:
            found = found.filter(**{f"{field}__gte": from_date})
        if to_date is not None:
            found = found.filter(**{f"{field}__lte": to_date})
    else:
        found = found.none()
    found = found.order_by(*(("status_changed_at", "pk") if order == "asc" else ("-status_changed_at", "-pk")))

    total = found.count()
    page = list(found[start:start + count]) if count else []
    include = include_set(request)
    if "custom_fields" in include:
        prefetch_related_objects(page, "custom_fields")
    end = start + len(page)
    return json_response({
        "resultSetSize": str(len(page)), "totalSetSize": str(total), "startPosition": str(start),
        "endPosition": str(end - 1),
        "nextUri": _page_uri(request, end) if page and end < total else None,
        "previousUri": _page_uri(request, max(0, start - count)) if start > 0 and count else None,
        "lastQueriedDateTime": clock.iso(clock.now()),
        "envelopes": [envelope_json(e, include) for e in page],
    })


def create_envelope(request: HttpRequest, caller: Caller) -> HttpResponse:
    """POST /envelopes: save a draft, or send at once with status "sent"."""
    definition = composition.expand(_read_definition(request), caller.account)
    status = _text(definition, "status") or "created"
    if status not in ("created", "sent"):
        raise ApiError("INVALID_REQUEST_PARAMETER", "The request contained at least one invalid parameter. "
                       "Value for 'status' must be 'created' or 'sent' when creating an envelope.")
    documents, recipients = _documents(definition), _recipients(definition)
    fields = custom_fields.parse(definition.get("customFields"))
    steps = workflow.parse(definition.get("workflow"), recipients)
    with transaction.atomic(using=router.database()):
        now = clock.now()
        envelope = Envelope.objects.create(
            account=caller.account, sender=caller.user, email_subject=_text(definition, "emailSubject")[:200],
            email_blurb=_text(definition, "emailBlurb")[:10000], created_at=now, status_changed_at=now,
            last_modified_at=now, transaction_id=_text(definition, "transactionId")[:100],
        )
        for document in documents:
            document.envelope = envelope
        Document.objects.bulk_create(documents)
        for recipient in recipients:
            recipient.envelope = envelope
        Recipient.objects.bulk_create(recipients)
        custom_fields.attach(envelope, fields)
        workflow.hold(envelope, steps)
        events.envelope_event(envelope, "envelope-created")
        if status == "sent":
            envelope_state.send(envelope)
    return json_response(envelope_summary(envelope), status=201)


@max_request_body(MAX_REQUEST_BYTES)  # DocuSign's cap, not the portal's (portal.request_size serves both origins)
@rest_endpoint
@require_http_methods(["GET", "POST"])
def envelopes(request: HttpRequest, caller: Caller) -> HttpResponse:
    if request.method == "POST":
        return create_envelope(request, caller)
    return list_status_changes(request, caller)


@rest_endpoint
@require_http_methods(["GET", "PUT"])
def envelope(request: HttpRequest, caller: Caller, envelope_id: str) -> HttpResponse:
    """GET /envelopes/{id}, and PUT to send a draft or void."""
    found = envelope_for(caller, envelope_id)
    if request.method == "GET":
        return json_response(envelope_json(found, include_set(request)))
    body = read_json(request)
    status = _text(body, "status")
    resend = request.GET.get("resend_envelope", "").lower() == "true"
    if status == "sent":
        envelope_state.send(found)
    elif status == "voided":
        envelope_state.void(found, _text(body, "voidedReason"))
    elif isinstance(body.get("workflow"), dict):
        workflow.resume(found, body["workflow"])  # DocuSign's unpause is sent with resend_envelope=true
    elif resend and not status:
        envelope_state.resend(found)
    else:
        # The sandbox changes an envelope only through its status (UNVERIFIED: DocuSign accepts more).
        raise ApiError("INVALID_REQUEST_PARAMETER", "The request contained at least one invalid parameter. "
                       "Value for 'status' must be 'sent' or 'voided'.")
    # envelopeUpdateSummary
    return json_response({"envelopeId": found.envelope_id})


