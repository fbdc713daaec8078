"""The sandbox's control API under `/_sandbox/`: how tests and the console steer the offline DocuSign.

JSON in and out (snake_case: this is the sandbox's own API, not DocuSign's). It can sign envelopes and move
the clock, so it exists only in a sandbox started with control on (`DOCUSIGN_SANDBOX_CONTROL`, `runsandbox
--control`: `make run` and the tests), answers loopback clients only, and refuses what a web page elsewhere
could make a developer's browser send: a cross-origin `Origin` (403) and a body that is not JSON (415; a form
or a `fetch` without a CORS preflight cannot send `application/json`). CSRF-exempt because callers are scripts.
"""

from __future__ import annotations

import functools
import ipaddress
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import clock, connect_delivery, faults
from .api import ApiError
from .models import Account, ConnectDelivery, Fault, Recipient, RequestLog, SandboxControl

REQUEST_LOG_PAGE = 1000
DEFAULT_FLUSH_SECONDS = 10.0


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False


def control_enabled() -> bool:
    return bool(getattr(settings, "DOCUSIGN_SANDBOX_CONTROL", False))


def is_same_origin(request: HttpRequest) -> bool:
    """True without an `Origin` (scripts send none; browsers always do on a POST) or with this sandbox's own."""
    origin = request.headers.get("Origin")
    # get_host() checks ALLOWED_HOSTS, so a rebound DNS name cannot pass as "same origin" either.
    return origin is None or origin == f"{request.scheme}://{request.get_host()}"


def control_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """404 unless control is enabled; 403 to a client not on this machine or a page of another origin."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not control_enabled():
            raise Http404("The sandbox runs without its control API.")
        if not is_loopback(request.META.get("REMOTE_ADDR", "")):
            return JsonResponse({"error": "The sandbox control API answers loopback clients only."}, status=403)
        if not is_same_origin(request):
            return JsonResponse({"error": "The sandbox control API answers its own origin only."}, status=403)
        return view(request, *args, **kwargs)

    return wrapper




class BadRequest(Exception):
    pass


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("The body must be a JSON object.") from exc
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    return body


def control_endpoint(methods: list[str]) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """control_only, the given methods, JSON bodies only (415), and BadRequest answered as 400 `{"error": ...}`."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            # POST is the one method a cross-origin page may send without a preflight; its simple content types are
            # forms and text/plain. Even an empty POST must say JSON: a form with no fields would otherwise pass.
            if request.method == "POST" and request.content_type != "application/json":
                return JsonResponse({"error": "Send the body as application/json."}, status=415)
            try:
                return view(request, *args, **kwargs)
            except BadRequest as exc:
                return JsonResponse({"error": str(exc)}, status=400)

        return control_only(require_http_methods(methods)(wrapper))

    return decorate


def _fault_json(fault: Fault) -> dict[str, Any]:
    return {"id": fault.pk, "path_pattern": fault.path_pattern, "kind": fault.kind, "remaining": fault.remaining}


@control_endpoint(["GET", "POST", "DELETE"])
def faults_view(request: HttpRequest) -> HttpResponse:
    """`POST {path_pattern, kind, count}` adds a fault, `DELETE` clears them all, `GET` lists the live ones."""
    if request.method == "POST":
        body = _body(request)
        path_pattern, kind, count = body.get("path_pattern"), body.get("kind"), body.get("count", 1)
        problem = faults.check(path_pattern, kind, count)
        if problem or not isinstance(path_pattern, str) or not isinstance(kind, str):  # check() refused other types
            raise BadRequest(problem)
        return JsonResponse(_fault_json(Fault.objects.create(path_pattern=path_pattern, kind=kind, remaining=count)),
                            status=201)
    if request.method == "DELETE":
        Fault.objects.all().delete()
        return JsonResponse({"faults": []})
    return JsonResponse({"faults": [_fault_json(f) for f in Fault.objects.filter(remaining__gt=0).order_by("pk")]})


@control_endpoint(["GET"])
def requests_view(request: HttpRequest) -> HttpResponse:
    """The request log, oldest first: `since` (ISO 8601, sandbox clock) and `path` (a regex) narrow it."""
    rows = RequestLog.objects.order_by("-at", "-pk")
    if since := request.GET.get("since"):
        parsed = parse_datetime(since)
        if parsed is None:
            raise BadRequest("since must be an ISO 8601 date-time.")
        rows = rows.filter(at__gte=parsed)
    if path := request.GET.get("path"):
        rows = rows.filter(path__regex=path)
    page = reversed(rows[:REQUEST_LOG_PAGE])
    return JsonResponse({"requests": [
        {"at": clock.iso(r.at), "method": r.method, "path": r.path, "status": r.status, "account_id": r.account_id,
         "user_id": r.user_id, "envelope_id": r.envelope_id} for r in page]})


def _clock_json(control: SandboxControl) -> dict[str, Any]:
    return {"now": clock.iso(clock.now()), "offset_seconds": control.clock_offset_seconds}


@control_endpoint(["GET", "POST"])
def clock_view(request: HttpRequest) -> HttpResponse:
    """`GET` the sandbox time; `POST {set: iso}` or `{advance_seconds: n}` moves it (never the real clock)."""
    control = SandboxControl.get()
    if request.method == "POST":
        body = _body(request)
        if "set" in body:
            target = parse_datetime(str(body["set"]))
            if target is None or timezone.is_naive(target):
                raise BadRequest("set must be an ISO 8601 date-time with a time zone.")
            control.clock_offset_seconds = (target - timezone.now()) / timedelta(seconds=1)
        elif isinstance(body.get("advance_seconds"), int | float) and not isinstance(body["advance_seconds"], bool):
            control.clock_offset_seconds += body["advance_seconds"]
        else:
            raise BadRequest("Give set (ISO 8601) or advance_seconds (a number).")
        control.save(update_fields=["clock_offset_seconds"])
    return JsonResponse(_clock_json(control))


@control_endpoint(["POST"])
def recipient_action(request: HttpRequest, envelope_id: str, recipient_id: str, action: str) -> HttpResponse:
    """What a recipient does in DocuSign's UI: `sign`, `decline` (body `{reason}`) or `deliver` (opens it)."""
    try:
        from . import envelope_state  # the envelopes module's; optional until it lands
    except ImportError:
        return JsonResponse({"error": "docusign_sandbox.envelope_state is not installed."}, status=501)
    recipient = (Recipient.objects.select_related("envelope")
                 .filter(envelope__envelope_id__iexact=envelope_id, recipient_id=recipient_id).first())
    if recipient is None:
        return JsonResponse({"error": "No such envelope recipient."}, status=404)
    try:
        if action == "sign":
            envelope_state.sign(recipient)
        elif action == "decline":
            envelope_state.decline(recipient, str(_body(request).get("reason", "")))
        else:
            envelope_state.deliver(recipient)
    except ApiError as exc:  # e.g. not this recipient's turn
        return JsonResponse({"error": exc.message, "error_code": exc.error_code}, status=409)
    recipient.refresh_from_db()
    recipient.envelope.refresh_from_db()
    return JsonResponse({"envelope_status": recipient.envelope.status, "recipient_status": recipient.status})


@control_endpoint(["POST"])
def connect_drop(request: HttpRequest) -> HttpResponse:
    """`{percent}`: the share of Connect messages never sent from now on."""
    percent = _body(request).get("percent")
    if not isinstance(percent, int) or isinstance(percent, bool) or not 0 <= percent <= 100:
        raise BadRequest("percent must be an integer from 0 to 100.")
    SandboxControl.objects.filter(pk=SandboxControl.get().pk).update(connect_drop_percent=percent)
    return JsonResponse({"percent": percent})


@control_endpoint(["POST"])
def connect_flush(request: HttpRequest) -> HttpResponse:
    """Wait until every queued Connect message has been attempted (`{timeout}` seconds at most)."""
    timeout = _body(request).get("timeout", DEFAULT_FLUSH_SECONDS)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout < 0:
        raise BadRequest("timeout must be a number of seconds.")
    return JsonResponse({"flushed": connect_delivery.flush(float(timeout))})


def delivery_json(d: ConnectDelivery) -> dict[str, Any]:
    return {
        "id": d.pk, "connect_id": str(d.configuration_id or ""), "account_id": d.account.account_id,
        "envelope_id": d.envelope_id, "event": d.event, "url": d.url, "status": d.status, "attempts": d.attempts,
        "last_status_code": d.last_status_code, "last_error": d.last_error, "created": clock.iso(d.created),
        "last_attempt_at": clock.iso(d.last_attempt_at), "payload": d.payload,
    }


@control_endpoint(["GET"])
def connect_deliveries(request: HttpRequest) -> HttpResponse:
    """Every Connect message recorded, oldest first."""
    rows = ConnectDelivery.objects.select_related("account").order_by("created", "pk")
    return JsonResponse({"deliveries": [delivery_json(d) for d in rows]})


def _positive_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise BadRequest(f"{name} must be a positive integer.")
    return value


@control_endpoint(["POST"])
def rate_limit(request: HttpRequest) -> HttpResponse:
    """`{status: 400|429, hourly_limit?, burst_limit?, account_id?}`: limits of one account, or of all."""
    body = _body(request)
    status = body.get("status")
    if status is not None and status not in (400, 429):
        raise BadRequest("status must be 400 or 429.")
    limits = {name: value for name in ("hourly_limit", "burst_limit") if (value := _positive_int(body, name))}
    accounts = Account.objects.all()
    if account_id := body.get("account_id"):
        accounts = accounts.filter(account_id__iexact=str(account_id))
        if not accounts.exists():
            raise BadRequest("No such account.")
    if limits:
        accounts.update(**limits)
    if status is not None:
        SandboxControl.objects.filter(pk=SandboxControl.get().pk).update(rate_limit_status=status)
    return JsonResponse({"status": SandboxControl.get().rate_limit_status, **limits})
