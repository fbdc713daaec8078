"""DocuSign's redirects back to the portal: the one redirect URI, routed by the state's flow.

The integration key has ONE registered redirect URI (`/docusign/callback/`). Every flow that sends a browser
to DocuSign issues an OAuth `state` naming the flow; the callback peeks at that name and hands the request to
the flow's handler, which consumes the state (single use, bound to the session) before anything else. The handlers
are a literal mapping in docusign_integration/urls.py (`CALLBACK_HANDLERS`), passed to the view by its URL pattern:
routing never depends on which modules happened to be imported.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from docusign_integration.oauth import state
from portal.log_redaction import secret_query_string

logger = logging.getLogger(__name__)

CallbackHandler = Callable[[HttpRequest], HttpResponse]


@secret_query_string  # code, state, error_description: redacted from access logs (portal.log_redaction)
@require_GET
def callback(request: HttpRequest, *, handlers: Mapping[str, CallbackHandler]) -> HttpResponse:
    """The one redirect URI: route by the state's flow. The handler itself validates and consumes the state."""
    flow = state.peek_flow(request.GET.get("state", ""))
    handler = handlers.get(flow or "")
    if handler is None:
        logger.warning("docusign_callback_unroutable flow_known=%s", flow is not None)
        response = callback_rejected(request)
    else:
        response = handler(request)
    # The URL carried a code and a state: keep them out of caches and out of the next page's Referer.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


def callback_rejected(request: HttpRequest) -> HttpResponse:
    """The answer to a redirect whose state is unknown, used, expired or not this session's: 400, nothing changed."""
    return render(request, "docusign_integration/callback_rejected.html", status=400)
