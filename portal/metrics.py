"""The portal's own Prometheus instruments (docs/operations.md section 10), counted where the work happens.

Every label set is bounded by the code, never by the data: resources and outcomes are words from fixed lists,
refusal reasons a fixed vocabulary, task names the registered tasks, API routes URL patterns. No label ever
carries an organization, account, envelope or user id, so the output's size is the same at 3 or 10,000 clients.

Counters and histograms live in prometheus_client's default registry; with PROMETHEUS_MULTIPROC_DIR set (gunicorn
and Celery workers: several processes) each process writes them to that directory and `/metrics` sums them.
Counts of what is in the database now (open dead letters, accounts near their limit, queue depth) are not here:
`portal.metrics_view` reads them at scrape time.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from celery.signals import task_failure, task_retry, task_success
from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram

CONNECT_RECEIVED = Counter("portal_connect_deliveries_received", "Connect deliveries that reached the listener")
CONNECT_REFUSED = Counter("portal_connect_deliveries_refused", "Connect deliveries refused by the listener", ["reason"])
CONNECT_STORED = Counter("portal_connect_deliveries_stored",
                         "Connect deliveries acknowledged, by what was stored (received: queued for processing)", ["state"])
CONNECT_PROCESSED = Counter("portal_connect_events_processed", "Stored Connect events processed by a worker", ["state"])
CONNECT_ACK_SECONDS = Histogram("portal_connect_acknowledgement_seconds",
                                "Time from a delivery's arrival to the listener's answer",
                                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 100))
DOCUSIGN_CALLS = Counter("portal_docusign_calls", "HTTP requests to DocuSign", ["resource", "method", "outcome"])
DOCUSIGN_SECONDS = Histogram("portal_docusign_call_seconds", "Duration of HTTP requests to DocuSign", ["resource", "method"],
                             buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
DOCUSIGN_TOKENS = Counter("portal_docusign_token_requests", "Token requests to DocuSign's account server",
                          ["grant", "outcome"])
TASKS = Counter("portal_celery_tasks", "Celery task runs, by task name and outcome", ["task", "outcome"])
API_REQUESTS = Counter("portal_api_requests", "Requests to /api/, by route pattern, method and status",
                       ["route", "method", "status"])
OUTBOUND_DELIVERIES = Counter("portal_outbound_deliveries",
                              "Attempts to deliver an event to the ISV's product, by how the attempt ended", ["outcome"])

# Refusal reasons of the Connect listener (docusign_integration.connect.listener); anything else counts as "other".
CONNECT_REFUSAL_REASONS = frozenset({"bad_length", "too_large", "signature", "not_json", "account_mismatch"})
GRANTS = {"urn:ietf:params:oauth:grant-type:jwt-bearer": "jwt", "refresh_token": "refresh",
          "authorization_code": "authorization_code"}
# A DocuSign path segment that names a resource: lower-case words (envelopes, documents, connect, oauth ...). Ids
# (GUIDs, numbers, "combined"-like document ids are words too but few) are dropped; the label keeps at most 4 words.
_RESOURCE_WORD = re.compile(r"[a-z_]{2,40}")
_PREFIXES = (["restapi", "accounts"], ["restapi"])  # eSignature's /restapi/v2.1/accounts/<id>/...
_UNANSWERED = {"timeout", "tls-error", "connection-error", "error"}
# How an attempt to deliver an outbound event ended (outbound_events.delivery): delivered; failed and retried later;
# failed and given up (the retry window is over); or answered after its lease ran out and another worker took it over.
OUTBOUND_OUTCOMES = ("delivered", "retry", "failed", "superseded")
for _outcome in OUTBOUND_OUTCOMES:  # every series from the start: rate() and absent() see a 0, not a missing series
    OUTBOUND_DELIVERIES.labels(outcome=_outcome)


def resource_of(path: str) -> str:
    """`/restapi/v2.1/accounts/<id>/envelopes/<id>/documents/combined` -> `envelopes/documents/combined`."""
    words = [segment for segment in path.split("/") if _RESOURCE_WORD.fullmatch(segment)]
    for prefix in _PREFIXES:
        if words[:len(prefix)] == prefix and len(words) > len(prefix):
            words = words[len(prefix):]
            break
    return "/".join(words[:4]) or "other"


def outcome_of(status: int | str) -> str:
    if isinstance(status, str):
        return status if status in _UNANSWERED else "error"
    return "ok" if 200 <= status < 300 else f"{status // 100}xx"


def observe_docusign_call(method: str, url: str, data: Any, status: int | str, seconds: float) -> None:
    """Count one HTTP request made by `docusign_integration.client.http` (its one choke point)."""
    resource = resource_of(urlsplit(url).path)
    outcome = outcome_of(status)
    DOCUSIGN_CALLS.labels(resource=resource, method=method, outcome=outcome).inc()
    DOCUSIGN_SECONDS.labels(resource=resource, method=method).observe(seconds)
    if resource == "oauth/token" and isinstance(data, Mapping):
        DOCUSIGN_TOKENS.labels(grant=GRANTS.get(str(data.get("grant_type")), "other"), outcome=outcome).inc()


def outbound_delivery_ended(outcome: str) -> None:
    """Count one delivery attempt of an outbound event that reached the endpoint (or failed to), by how it ended."""
    if outcome in OUTBOUND_OUTCOMES:  # a fixed vocabulary: anything else is a caller's bug, never a new series
        OUTBOUND_DELIVERIES.labels(outcome=outcome).inc()


def connect_refused(reason: str) -> None:
    CONNECT_REFUSED.labels(reason=reason if reason in CONNECT_REFUSAL_REASONS else "other").inc()


def connect_acknowledgement(view: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """Wrap the Connect listener: count each delivery and time it until the answer."""

    @functools.wraps(view)  # keeps csrf_exempt and the body cap that portal.request_size reads
    def timed(request: HttpRequest) -> HttpResponse:
        CONNECT_RECEIVED.inc()
        started = time.perf_counter()
        try:
            return view(request)
        finally:
            CONNECT_ACK_SECONDS.observe(time.perf_counter() - started)

    return timed


class ApiRequestsMiddleware:
    """Counts each request under `/api/` by its URL pattern (never the path itself: ids stay out of the labels)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/api/"):
            match = getattr(request, "resolver_match", None)
            route = match.route if match is not None and match.route else "unmatched"
            API_REQUESTS.labels(route=route, method=_method(request), status=str(response.status_code)).inc()
        return response


def _method(request: HttpRequest) -> str:
    method = request.method or ""
    return method if method in {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} else "other"


@task_success.connect
def _task_succeeded(sender: Any = None, **kwargs: Any) -> None:
    TASKS.labels(task=_task_name(sender), outcome="success").inc()


@task_failure.connect
def _task_failed(sender: Any = None, **kwargs: Any) -> None:
    TASKS.labels(task=_task_name(sender), outcome="failure").inc()


@task_retry.connect
def _task_retried(sender: Any = None, **kwargs: Any) -> None:
    TASKS.labels(task=_task_name(sender), outcome="retry").inc()


def _task_name(sender: Any) -> str:
    name = getattr(sender, "name", None)
    return name if isinstance(name, str) else "unknown"
