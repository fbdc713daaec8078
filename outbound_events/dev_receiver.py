"""A receiver for `make run` (DEBUG only): endpoints pointed at /_dev/webhooks/<name>/ keep what they received, and
staff watch it at the same address, with whether each signature verified (by the `standardwebhooks` library).

It stands in for the ISV's product, so a newcomer sees the events flow; with DEBUG off every URL here is 404.
Received events live in the cache (the last 50 per name), never in the database.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from . import secrets
from .models import WebhookEndpoint

KEEP = 50
MAX_BODY = 256 * 1024


def _key(name: str) -> str:
    return f"outbound_events:dev_receiver:{name}"


def _verified(request: HttpRequest, name: str, body: bytes) -> bool:
    headers = {k.lower(): v for k, v in request.headers.items()}
    suffix = f"/_dev/webhooks/{name}/"
    for endpoint in WebhookEndpoint.objects.filter(url__contains=suffix):
        try:
            for secret in secrets.signing_secrets(endpoint):
                Webhook(secret).verify(body, headers)
                return True
        except (WebhookVerificationError, ValueError):
            continue
    return False


@csrf_exempt
def receiver(request: HttpRequest, slug: str) -> HttpResponse:
    name = slug  # the receiver's name: seed_demo uses the organization's slug
    if not settings.DEBUG:
        raise Http404
    if request.method == "POST":
        body = request.body[:MAX_BODY]
        try:
            event: dict[str, Any] = json.loads(body)
        except ValueError:
            return HttpResponse("not JSON", status=400, content_type="text/plain")
        entry = {"received_at": datetime.now(UTC).isoformat(timespec="seconds"), "id": request.headers.get("webhook-id", ""),
                 "type": event.get("type", ""), "data": json.dumps(event.get("data"), indent=1, sort_keys=True)[:2000],
                 "verified": _verified(request, name, body)}
        cache.set(_key(name), [entry, *cache.get(_key(name), [])][:KEEP], timeout=None)
        return HttpResponse(status=204)
    return _page(request, name)


@staff_member_required
def _page(request: HttpRequest, name: str) -> HttpResponse:
    return render(request, "outbound_events/receiver.html", {"name": name, "received": cache.get(_key(name), [])})
