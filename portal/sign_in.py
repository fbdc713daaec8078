"""Sign-in throttling (django-axes): which client address counts, and what a locked-out person sees."""

from __future__ import annotations

import ipaddress

from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.timesince import timeuntil


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind PORTAL_TRUSTED_PROXY_COUNT proxies, the address the outermost
    one saw (each proxy appends the address it was reached from to X-Forwarded-For; anything to the left of
    those entries came from the client and is not believed). See docs/security.md DP-3.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.PORTAL_TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < count:
        return remote  # the request did not come through every proxy: only the socket's peer is known
    try:
        return str(ipaddress.ip_address(forwarded[-count]))
    except ValueError:
        return remote


def lockout_response(request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None) -> HttpResponse:
    """429 with a page that says what happened and when to try again (and a Retry-After header)."""
    cool_off = get_cool_off(request)
    now = timezone.now()
    response = render(request, "registration/locked_out.html", {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "retry_in": timeuntil(now + cool_off, now) if cool_off else None,
    }, status=429)
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


def replace_lockout_admin() -> None:
    """axes' AccessAttempt admin without its "Clean up expired attempts" action.

    That action reads `request.axes_attempt_time`, which axes sets only on sign-in requests, so it answers 500
    from the admin whatever is selected (tests/security/test_bad_ids.py). Expired attempts stop counting at the
    cool-off anyway; staff unlock someone by deleting their attempt.
    """
    from axes.admin import AccessAttemptAdmin
    from axes.models import AccessAttempt
    from django.contrib import admin

    class LockoutAdmin(AccessAttemptAdmin):
        actions: list[str] = []

    if admin.site.is_registered(AccessAttempt):
        admin.site.unregister(AccessAttempt)
    admin.site.register(AccessAttempt, LockoutAdmin)


def throttled_username(request: HttpRequest, credentials: dict | None) -> str:
    """The name failures are counted under, lower-cased: sign-in ignores case (portal/auth_backends.py), so
    `Ana@x` and `ana@x` must share one count or each spelling would get its own AXES_FAILURE_LIMIT."""
    source = credentials if credentials else request.POST
    return str(source.get("username") or "").lower()
