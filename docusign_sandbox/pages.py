"""The pages behind the one-time view URLs: "prepare and send" (sender view) and signing (recipient view).

Opening the URL spends its token. The page then carries a signed page value naming the view, which every
button posts back together with the URL's token, so only the person who opened the page can act on it.
Each action ends at the view's returnUrl with DocuSign's `?event=` value (docs/docusign.md §6.2):
sender: Send, Save, Cancel, Error; recipient: signing_complete, decline, cancel, ttl_expired,
viewing_complete, session_timeout, exception.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from . import clock, envelope_state, focused_view
from .api import ApiError
from .auth import hash_token
from .models import ViewToken

PAGE_SALT = "docusign_sandbox.pages.view"
# How long an opened page accepts its buttons; DocuSign's signing session times out after about 20 minutes
# of inactivity (UNVERIFIED exact value), which it reports as `session_timeout`.
SESSION_TIMEOUT = timedelta(minutes=20)
ACTIONABLE_STATUSES = ("sent", "delivered")


def _return_to(view: ViewToken, event: str) -> HttpResponseRedirect:
    """The view's returnUrl with `event` added to its query string (keeping the client's own parameters)."""
    parts = urlsplit(view.return_url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), ("event", event)])
    return HttpResponseRedirect(urlunsplit(parts._replace(query=query)))


def _error(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "docusign_sandbox/error.html", {"message": message}, status=status)


def _find_view(token: str, kind: str) -> ViewToken | None:
    return (ViewToken.objects.select_related("envelope__sender", "recipient")
            .filter(token_hash=hash_token(token), kind=kind).first())


def _open(request: HttpRequest, token: str, kind: str) -> ViewToken | HttpResponse:
    """Spend the one-time token of a GET; an unknown, used or expired link answers instead."""
    view = _find_view(token, kind)
    if view is None:
        return _error(request, "This link is not valid.", 404)
    if view.used:
        return _error(request, "This link has already been used. Ask the application for a new one.", 410)
    # The conditional update makes "one time" hold when two requests race for the same link.
    if not ViewToken.objects.filter(pk=view.pk, used=False).update(used=True):
        return _error(request, "This link has already been used. Ask the application for a new one.", 410)
    if view.expires_at <= clock.now():
        if kind == "recipient":
            return _return_to(view, "ttl_expired")
        return _error(request, "This link has expired. Ask the application for a new one.", 410)
    return view


def _posted_view(request: HttpRequest, token: str, kind: str) -> ViewToken | HttpResponse:
    """The view a button was pressed on: the URL's token and the page's signed value must name the same view."""
    view = _find_view(token, kind)
    if view is None or not view.used:
        return _error(request, "This page is no longer valid.", 404)
    try:
        view_pk = signing.loads(request.POST.get("page", ""), salt=PAGE_SALT,
                                max_age=SESSION_TIMEOUT)
    except signing.SignatureExpired:
        view.delete()
        return _return_to(view, "session_timeout") if kind == "recipient" else \
            _error(request, "This session has ended. Ask the application for a new link.", 410)
    except signing.BadSignature:
        return _error(request, "This page is no longer valid.", 400)
    if view_pk != view.pk:
        return _error(request, "This page is no longer valid.", 400)
    return view


def _finish(view: ViewToken, event: str) -> HttpResponseRedirect:
    # A finished page cannot be submitted again: its view is gone.
    view.delete()
    return _return_to(view, event)


def _render(request: HttpRequest, template: str, view: ViewToken, status: int = 200, **context: object) -> HttpResponse:
    envelope = view.envelope
    context.update(view=view, envelope=envelope, page=signing.dumps(view.pk, salt=PAGE_SALT),
                   documents=envelope.documents.order_by("order", "pk"),
                   recipients=envelope.recipients.order_by("routing_order", "pk"))
    response = render(request, template, context, status=status)
    if view.kind == "recipient":  # a sender view's settings are the client's own, never a framing grant
        focused_view.allow_framing(response, view.settings)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def sending_page(request: HttpRequest, token: str) -> HttpResponse:
    """The sender view: review a draft, then Send, Save (keep the draft) or Cancel."""
    if request.method == "GET":
        view = _open(request, token, "sender")
        if isinstance(view, HttpResponse):
            return view
        if view.envelope.status != "created":
            return _finish(view, "Error")
        # Without a settings object (the pre-2024 body) DocuSign opens the tagger (UNVERIFIED default).
        starting_screen = str(view.settings.get("startingScreen") or "Tagger")
        return _render(request, "docusign_sandbox/sending.html", view, starting_screen=starting_screen)
    view = _posted_view(request, token, "sender")
    if isinstance(view, HttpResponse):
        return view
    action = request.POST.get("action")
    if action == "send":
        try:
            envelope_state.send(view.envelope)
        except ApiError:
            return _finish(view, "Error")
        return _finish(view, "Send")
    if action == "save":
        return _finish(view, "Save")
    if action == "cancel":
        return _finish(view, "Cancel")
    return _error(request, "Unknown action.", 400)


@never_cache
@require_http_methods(["GET", "POST"])
def signing_page(request: HttpRequest, token: str) -> HttpResponse:
    """The recipient view: Sign, Decline (with a reason) or Finish later; view only when nothing is left to do."""
    if request.method == "GET":
        view = _open(request, token, "recipient")
        if isinstance(view, HttpResponse):
            return view
        recipient = view.recipient
        if recipient is None:
            return _error(request, "This page is no longer valid.", 404)
        can_act = view.envelope.status in ACTIONABLE_STATUSES and recipient.status in ACTIONABLE_STATUSES
        if can_act:
            envelope_state.deliver(recipient)
        return _render(request, "docusign_sandbox/signing.html", view, recipient=recipient, can_act=can_act)
    view = _posted_view(request, token, "recipient")
    if isinstance(view, HttpResponse):
        return view
    recipient = view.recipient
    if recipient is None:
        return _error(request, "This page is no longer valid.", 404)
    action = request.POST.get("action")
    if action == "close":
        return _finish(view, "viewing_complete")
    try:
        if action == "sign":
            envelope_state.sign(recipient)
            return _finish(view, "signing_complete")
        if action == "decline":
            reason = request.POST.get("reason", "").strip()
            if not reason:
                return _render(request, "docusign_sandbox/signing.html", view, 400, recipient=recipient,
                               can_act=True, reason_error="Please give a reason for declining.")
            envelope_state.decline(recipient, reason)
            return _finish(view, "decline")
        if action == "finish_later":
            envelope_state.finish_later(recipient)
            return _finish(view, "cancel")
    except ApiError:
        # The envelope changed under the page (voided, or signed in another window).
        return _finish(view, "exception")
    return _error(request, "Unknown action.", 400)
