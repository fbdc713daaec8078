"""Request bodies are capped before anything reads them (the first middleware; docs/security.md WH-7).

A body declared larger than its route's cap is refused with 413 from the `Content-Length` header alone, so
nothing of it is read, parsed or spooled to a temporary file (the CSRF check reads request.POST of any POST,
signed in or not). A body without a declared length (`Transfer-Encoding: chunked`) is refused with 411: no
route of the portal takes one (Django would see it as empty). The cap is `REQUEST_MAX_BODY` (1 MB) unless the
view declares its own with `@max_request_body(...)`, next to the view; a proxy in front holds the same limits
(docs/operations.md, "Request size").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

DEFAULT_MAX_BODY = 1_048_576
ATTRIBUTE = "max_request_body"

View = TypeVar("View", bound=Callable[..., Any])


def max_request_body(limit: int | Callable[[], int], *, form_overhead: int = 0) -> Callable[[View], View]:
    """Declare the largest request body `view` takes: `limit` bytes (or a function of the settings giving them),
    plus `form_overhead` for the other fields of a form that carries a file of up to `limit` bytes."""

    def decorate(view: View) -> View:
        setattr(view, ATTRIBUTE, (limit, form_overhead))
        return view

    return decorate


def default_max_body() -> int:
    return int(getattr(settings, "REQUEST_MAX_BODY", DEFAULT_MAX_BODY))


def route_max_body(request: HttpRequest) -> int:
    """The cap of the view `request` goes to (resolved as the handler will resolve it), else the default."""
    try:
        match = resolve(request.path_info, urlconf=getattr(request, "urlconf", None))
    except Resolver404:
        return default_max_body()
    declared = getattr(match.func, ATTRIBUTE, None)
    if declared is None:
        return default_max_body()
    limit, form_overhead = declared
    return (limit() if callable(limit) else limit) + form_overhead


def _refusal(status: int, sentence: str) -> HttpResponse:
    return HttpResponse(sentence, status=status, content_type="text/plain; charset=utf-8")


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "HTTP_TRANSFER_ENCODING" in request.META:
            return _refusal(411, "Send the request with a Content-Length.")
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = -1
        if declared < 0:
            return _refusal(400, "The Content-Length header is not a number of bytes.")
        # Most requests carry no body: resolving the route is only needed for those that do.
        if declared > 0 and declared > (limit := route_max_body(request)):
            return _refusal(413, f"The request is larger than {limit:,} bytes, the most this page takes.")
        return self.get_response(request)
