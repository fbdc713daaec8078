"""The console's forms: act as any envelope recipient (sign, decline), so a remote (email) signer can finish offline.

The JSON control API stays JSON-only (docusign_sandbox.control_views); these are plain HTML forms instead, so they
carry Django's CSRF token, checked after the console's own gate (control enabled, loopback clients): a sandbox
without control answers 404 before any CSRF check. Each action does what DocuSign's signing page does
(docusign_sandbox.pages: the recipient opens the envelope, then signs or declines), through envelope_state, so the
last signer completes the envelope and Connect publishes exactly the same events.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from . import envelope_state
from .api import ApiError
from .control_views import control_enabled, is_loopback
from .models import Recipient

DEFAULT_DECLINE_REASON = "Declined in the sandbox console."


def _refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "docusign_sandbox/error.html", {"message": message, "console": True}, status=status)


def console_form(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """404 unless control is enabled, 403 to a client not on this machine, then POST with a valid CSRF token only."""
    protected = csrf_protect(require_POST(view))

    @csrf_exempt  # the middleware's check would answer before the gate; csrf_protect makes the same check after it
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not control_enabled():
            raise Http404("The sandbox runs without its control API.")
        if not is_loopback(request.META.get("REMOTE_ADDR", "")):
            return _refused(request, "The sandbox console answers loopback clients only.", 403)
        return protected(request, *args, **kwargs)

    return wrapper


@console_form
def recipient_act(request: HttpRequest, envelope_id: str, recipient_id: str, action: str) -> HttpResponse:
    """Open the envelope as the recipient, then sign or decline (with the form's reason); back to the envelopes page."""
    recipient = (Recipient.objects.select_related("envelope")
                 .filter(envelope__envelope_id__iexact=envelope_id, recipient_id=recipient_id).first())
    if recipient is None:
        return _refused(request, "No such envelope recipient.", 404)
    try:
        envelope_state.deliver(recipient)
        if action == "sign":
            envelope_state.sign(recipient)
            done = f"{recipient.name} signed envelope {recipient.envelope.envelope_id}."
        else:
            reason = request.POST.get("reason", "").strip() or DEFAULT_DECLINE_REASON
            envelope_state.decline(recipient, reason)
            done = f"{recipient.name} declined envelope {recipient.envelope.envelope_id}."
    except ApiError as exc:  # not this recipient's turn, or the envelope is no longer in flight
        return _refused(request, exc.message, 409)
    messages.success(request, done)
    response = redirect("sandbox-console-envelopes")
    response.status_code = 303  # POST/redirect/GET: reloading the list never signs twice
    return response
