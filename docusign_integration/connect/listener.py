"""`POST /docusign/connect/`: the Connect listener (docs/docusign.md §7.3-§7.5; docs/security.md WH-1..WH-7, BI-4).

In order: size cap (413, never reading past it), HMAC over the raw bytes before anything parses them (401), JSON
(400), the body's account equal to the signed header's (401: cross-tenant forgery), then store once and answer 200.
Processing happens in a task queued after commit; no DocuSign call is made here, so DocuSign's 100-second deadline
is never at risk. Logs name the event, account and envelope, never the body or a signature.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from docusign_integration.client.ids import is_guid
from docusign_integration.connect import hmac as connect_hmac
from docusign_integration.connect.events import connect_event_store
from portal import metrics
from portal.request_size import max_request_body

logger = logging.getLogger(__name__)

# Sized from a SIM message with recipients and document names but without documents (includeDocuments off),
# far below DocuSign's 35 MB request cap, which applies to calls made *to* DocuSign (docs/security.md WH-7).
DEFAULT_MAX_BODY = 1_048_576


def _max_body() -> int:
    return int(getattr(settings, "DOCUSIGN_CONNECT_MAX_BODY", DEFAULT_MAX_BODY))


def _refuse(status: int, why: str, account_id: str, *, reason: str) -> HttpResponse:
    metrics.connect_refused(reason)
    logger.warning("Connect message refused (%s): %s; account %s", status, why, account_id[:36] or "-")
    return HttpResponse(status=status)


@metrics.connect_acknowledgement  # outermost: counts and times every delivery, refusals included
@max_request_body(_max_body)  # refused by portal.request_size before a byte is read; checked again below
@csrf_exempt  # DocuSign cannot send a CSRF token; the HMAC is this view's proof of origin
@require_POST
def connect_listener(request: HttpRequest) -> HttpResponse:
    account_id = request.headers.get("X-DocuSign-AccountId", "")
    limit = _max_body()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _refuse(400, "unreadable Content-Length", account_id, reason="bad_length")
    if declared > limit:
        return _refuse(413, f"body of {declared} bytes is over the {limit}-byte cap", account_id, reason="too_large")
    # Django's stream stops at Content-Length, so a lying header cannot make this read more than the cap.
    body = request.read(limit + 1)
    if len(body) > limit:
        return _refuse(413, "body is over the cap", account_id, reason="too_large")

    signatures = connect_hmac.signatures_from(request.headers)
    verified = connect_hmac.verify(account_id, body, signatures) if is_guid(account_id) else None
    if verified is None:
        return _refuse(401, "no signature matches a key allowed for the account", account_id, reason="signature")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands of levels deep (docs/security.md BI-4)
        return _refuse(400, "the body is not JSON", account_id, reason="not_json")
    data = payload.get("data") if isinstance(payload, dict) else None
    body_account = data.get("accountId") if isinstance(data, dict) else None
    if not isinstance(body_account, str) or body_account.lower() != account_id.lower():
        return _refuse(401, "data.accountId differs from the signed X-DocuSign-AccountId", account_id,
                       reason="account_mismatch")

    event, created = connect_event_store(environment=verified.environment, account_id=account_id,
                                         organization=verified.organization, payload=payload, body=body)
    metrics.CONNECT_STORED.labels(state=event.state if created else "duplicate").inc()
    logger.info("Connect %s for envelope %s of account %s: %s", event.event or "-", event.envelope_id or "-",
                account_id, event.state if created else "duplicate")
    return HttpResponse(status=200)
