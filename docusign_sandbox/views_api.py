"""Envelope views: the sender view ("prepare and send") and the recipient (embedded signing) view: docs/docusign.md §6.2.

Both answer 201 `{"url"}`: a one-time URL on the sandbox origin the client called, whose token is stored
only as a hash. The recipient view lives 5 minutes on the sandbox clock (then `ttl_expired`).
Reference: https://developers.docusign.com/docs/esign-rest-api/reference/envelopes/envelopeviews/
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from . import clock, focused_view, refusals
from .api import ApiError, Caller, json_response, read_json, rest_endpoint
from .auth import hash_token, new_token
from .envelopes import envelope_for
from .models import Envelope, Recipient, User, ViewToken

VIEW_LIFETIME = timedelta(minutes=5)  # docs/docusign.md §6.2
MAX_RETURN_URL = 470
# recipientViewRequest.authenticationMethod values DocuSign documents (compared case-insensitively).
AUTHENTICATION_METHODS = frozenset(m.lower() for m in (
    "Biometric", "Email", "HTTPBasicAuth", "Kerberos", "KnowledgeBasedAuth", "None", "PaperDocuments", "Password",
    "RSASecureID", "SingleSignOn_CASiteminder", "SingleSignOn_InfoCard", "SingleSignOn_OpenID",
    "SingleSignOn_Passport", "SingleSignOn_SAML", "Smartcard", "SSLMutualAuth", "X509Certificate",
))
UNKNOWN_RECIPIENT_MESSAGE = (
    "The recipient you have identified is not a valid recipient of the specified envelope. Envelope recipient "
    "could not be determined. 'clientUserId', 'email', or 'userName' in request and envelope may not match.")


def _parameter_error(detail: str) -> ApiError:
    return ApiError("INVALID_REQUEST_PARAMETER", f"The request contained at least one invalid parameter. {detail}")


def _return_url(body: dict[str, Any]) -> str:
    """returnUrl: required, at most 470 characters, and an http(s) URL (the pages redirect to it)."""
    value = body.get("returnUrl")
    if not isinstance(value, str) or not value.strip():
        raise _parameter_error("'returnUrl' must be specified.")
    if len(value) > MAX_RETURN_URL:
        raise _parameter_error(f"'returnUrl' must be at most {MAX_RETURN_URL} characters.")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _parameter_error("'returnUrl' must be an absolute http or https URL.")
    return value


def _issue(request: HttpRequest, kind: str, envelope: Envelope, return_url: str,
           recipient: Recipient | None = None, settings: dict | None = None) -> HttpResponse:
    token = new_token()
    ViewToken.objects.create(token_hash=hash_token(token), kind=kind, envelope=envelope, recipient=recipient,
                             return_url=return_url, settings=settings or {},
                             expires_at=clock.now() + VIEW_LIFETIME)
    page = "sandbox_sending_page" if kind == "sender" else "sandbox_signing_page"
    url = request.build_absolute_uri(reverse(page, urlconf="docusign_sandbox.urls", kwargs={"token": token}))
    return json_response({"url": url}, status=201)


@rest_endpoint
@require_POST
def sender_view(request: HttpRequest, caller: Caller, envelope_id: str) -> HttpResponse:
    """POST /envelopes/{id}/views/sender: the old `{returnUrl}` body or the 2024 `{returnUrl, viewAccess, settings}`."""
    envelope = envelope_for(caller, envelope_id)
    body = read_json(request)
    return_url = _return_url(body)
    settings = body.get("settings") or {}
    if not isinstance(settings, dict):
        raise ApiError("INVALID_REQUEST_BODY", "The request body is missing or improperly formatted.")
    if envelope.status != "created":
        raise ApiError("ENVELOPE_NOT_IN_CORRECT_STATE",  # UNVERIFIED code
                       "The sender view is only available for a draft envelope.")
    view_access = body.get("viewAccess")
    if view_access is not None and view_access not in ("envelope", "template"):
        raise _parameter_error("Value for 'viewAccess' must be 'envelope' or 'template'.")
    return _issue(request, "sender", envelope, return_url, settings=settings)


def _find_signer(envelope: Envelope, body: dict[str, Any]) -> Recipient:
    """The embedded signer the request names: clientUserId, and email + userName (or userId), must all match."""
    client_user_id, email, user_name = (str(body.get(key) or "").strip() for key in ("clientUserId", "email", "userName"))
    user_id, recipient_id = str(body.get("userId") or ""), str(body.get("recipientId") or "")
    if user_id and not (email and user_name):
        user = User.objects.filter(user_id__iexact=user_id).first()
        email, user_name = (user.email, user.name) if user else ("", "")
    candidates = envelope.recipients.filter(recipient_type="signer", email__iexact=email, name=user_name)
    if recipient_id:
        candidates = candidates.filter(recipient_id=recipient_id)
    # A signer without a clientUserId is a remote signer: DocuSign emails them, there is no embedded view.
    signer = candidates.filter(client_user_id=client_user_id).first() if client_user_id else None
    if signer is None:
        raise ApiError("UNKNOWN_ENVELOPE_RECIPIENT", UNKNOWN_RECIPIENT_MESSAGE)
    return signer


@rest_endpoint
@require_POST
def recipient_view(request: HttpRequest, caller: Caller, envelope_id: str) -> HttpResponse:
    """POST /envelopes/{id}/views/recipient: a 5-minute signing URL for an embedded signer."""
    envelope = envelope_for(caller, envelope_id)
    body = read_json(request)
    refusals.check_fields(body, refusals.REFUSED_RECIPIENT_VIEW_FIELDS)
    return_url = _return_url(body)
    framing = focused_view.framing(request, body)
    method = body.get("authenticationMethod")
    if not isinstance(method, str) or method.lower() not in AUTHENTICATION_METHODS:
        raise _parameter_error("Value for 'authenticationMethod' must be specified and valid.")
    signer = _find_signer(envelope, body)
    if envelope.status not in ("sent", "delivered", "completed"):
        raise ApiError("ENVELOPE_NOT_IN_CORRECT_STATE",  # UNVERIFIED code
                       f"A recipient view is not available for an envelope in the '{envelope.status}' state.")
    if envelope.status != "completed" and signer.status == "created":
        raise ApiError("RECIPIENT_NOT_IN_SEQUENCE", "The token for an out of sequence recipient cannot be generated.")
    return _issue(request, "recipient", envelope, return_url, recipient=signer, settings=framing)
