"""Fault injection: the next N sandbox requests whose path matches a regex go wrong in a chosen way.

Set through `POST /_sandbox/faults`; applied by SandboxMiddleware to every path except `/_sandbox/`. The kinds
are the failures a DocuSign client meets in production:
- `500`, `502`, `503`: an HTML error page, as a load balancer or gateway serves it (not DocuSign's JSON);
- `429`: too many requests, with `Retry-After`;
- `timeout`: the answer comes only after DOCUSIGN_SANDBOX_FAULT_DELAY seconds, longer than a client's read
  timeout; the request is then carried out, as a slow server does, so the client cannot know whether it was;
- `drop`: the connection is closed without a response (server.SandboxRequestHandler does the closing);
- `malformed`: the real response with its body cut in half, so it is not valid JSON.
"""

from __future__ import annotations

import re
import time

from django.conf import settings
from django.db.models import F
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

from .models import Fault

KINDS = tuple(Fault.KINDS)
# Tells server.SandboxRequestHandler to close the socket instead of answering; never reaches the client.
DROP_CONNECTION_HEADER = "X-Sandbox-Drop-Connection"
DEFAULT_DELAY_SECONDS = 5.0
RETRY_AFTER_SECONDS = 1

_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 429: "Too Many Requests"}


def check(path_pattern: object, kind: object, count: object) -> str | None:
    """What is wrong with a fault definition, or None."""
    if kind not in KINDS:
        return f"kind must be one of {', '.join(KINDS)}."
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        return "count must be a positive integer."
    if not isinstance(path_pattern, str) or not path_pattern:
        return "path_pattern must be a regular expression."
    try:
        re.compile(path_pattern)
    except re.error as exc:
        return f"path_pattern is not a valid regular expression: {exc}."
    return None


def claim(path: str) -> Fault | None:
    """The oldest live fault matching `path`, with one use taken from it (safe between server threads)."""
    for fault in Fault.objects.filter(remaining__gt=0).order_by("pk"):
        if re.search(fault.path_pattern, path) is None:
            continue
        if Fault.objects.filter(pk=fault.pk, remaining__gt=0).update(remaining=F("remaining") - 1):
            return fault
    return None


def replacement(kind: str) -> HttpResponse | None:
    """The response that replaces the real one for this kind, or None when the real view must still run."""
    if kind == "drop":
        response = HttpResponse(status=503)
        response[DROP_CONNECTION_HEADER] = "1"
        return response
    if kind.isdigit():
        status = int(kind)
        reason = _REASONS[status]
        response = HttpResponse(f"<html><head><title>{status} {reason}</title></head>"
                                f"<body><h1>{status} {reason}</h1></body></html>", status=status,
                                content_type="text/html; charset=utf-8")
        if status == 429:
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return None


def _half(content: bytes) -> bytes:
    return content[: len(content) // 2] if len(content) > 1 else b'{"'


def delay() -> None:
    """Hold the request longer than a client's read timeout (the `timeout` kind)."""
    time.sleep(float(getattr(settings, "DOCUSIGN_SANDBOX_FAULT_DELAY", DEFAULT_DELAY_SECONDS)))


def truncated(response: HttpResponseBase) -> HttpResponseBase:
    """The `malformed` kind: the real status and content type, half of the body."""
    if isinstance(response, StreamingHttpResponse):  # a document download: answered in one piece from here on
        return HttpResponse(_half(response.getvalue()), status=response.status_code,
                            content_type=response.get("Content-Type"))
    if not isinstance(response, HttpResponse):
        return response
    cut = _half(response.content)
    response.content = cut
    if response.has_header("Content-Length"):  # set by CommonMiddleware for the whole body
        response["Content-Length"] = str(len(cut))
    return response
