"""Per-request behaviour of the sandbox's origin: request log, rate-limit headers, fault injection.

Applied by docusign_sandbox.server.SandboxHandler around every sandbox request (never to the portal).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class SandboxMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)
