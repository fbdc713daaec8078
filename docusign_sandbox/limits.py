"""DocuSign's API rate limits, counted from the request log (docs/docusign.md §9).

Per account: an hourly limit that resets on the hour of the sandbox clock, and a 30-second burst limit,
both from the Account row (set through `/_sandbox/rate-limit`). Per envelope: GET polling and PUT update
throttles whose thresholds DocuSign does not publish. Every request a caller makes counts, refused ones too,
so a client that keeps calling while refused stays refused, as DocuSign's "fails until the next hour" says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from .api import error_response
from .auth import bearer_token
from .models import Account, Membership, RequestLog, SandboxControl

ACCOUNT_PATH = re.compile(r"^/restapi/v2\.1/accounts/([^/]+)/")
ENVELOPE_PATH = re.compile(r"/envelopes/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?:/|$)")
BURST_WINDOW = timedelta(seconds=30)
HOUR = timedelta(hours=1)

# UNVERIFIED: DocuSign publishes no thresholds for its per-envelope throttles (only the 1 GET per 15 min
# polling rule, which is flagged at Go-Live rather than refused). The sandbox refuses well above that rule.
ENVELOPE_GETS_PER_HOUR = 100
ENVELOPE_GETS_PER_BURST = 20
ENVELOPE_PUTS_PER_HOUR = 100
ENVELOPE_PUTS_PER_BURST = 20


@dataclass
class Usage:
    """An account's requests before the current one, in the current clock hour and the last 30 seconds."""

    hourly_limit: int
    burst_limit: int
    hourly_used: int
    burst_used: int
    reset: datetime  # the next hour boundary of the sandbox clock


def envelope_id_in(path: str) -> str:
    match = ENVELOPE_PATH.search(path)
    return match.group(1).lower() if match else ""


def path_account(path: str) -> Account | None:
    """The account named in an eSignature REST path, by GUID or external account number."""
    match = ACCOUNT_PATH.match(path)
    if match is None:
        return None
    account_id = match.group(1)
    return Account.objects.filter(Q(account_id__iexact=account_id) | Q(account_number=account_id)).first()


def authenticated_member(request: HttpRequest, account: Account) -> str:
    """The user id of a valid bearer token whose user belongs to `account`, else "" (the view answers that)."""
    token = bearer_token(request)
    if token is None or not Membership.objects.filter(user=token.user, account=account).exists():
        return ""
    return token.user.user_id


def usage(account: Account | None, now: datetime) -> Usage:
    """The account's usage; for a path naming no known account, the default limits with nothing used."""
    hour_start = now.replace(minute=0, second=0, microsecond=0)
    if account is None:
        return Usage(hourly_limit=Account._meta.get_field("hourly_limit").default,
                     burst_limit=Account._meta.get_field("burst_limit").default,
                     hourly_used=0, burst_used=0, reset=hour_start + HOUR)
    logged = RequestLog.objects.filter(account_id=account.account_id)
    return Usage(
        hourly_limit=account.hourly_limit, burst_limit=account.burst_limit,
        hourly_used=logged.filter(at__gte=hour_start).count(),
        burst_used=logged.filter(at__gt=now - BURST_WINDOW).count(),
        reset=hour_start + HOUR,
    )


def refusal(request: HttpRequest, used: Usage, now: datetime) -> HttpResponse | None:
    """DocuSign's limit error for this request, or None to let it through."""
    # DocuSign answers 400 today and is said to be moving to 429 (docs/docusign.md §9): the switch covers every throttle.
    status = SandboxControl.get().rate_limit_status
    if used.hourly_used >= used.hourly_limit:
        return error_response(
            "HOURLY_APIINVOCATION_LIMIT_EXCEEDED",
            f"The maximum number of hourly API invocations has been exceeded. The hourly limit is {used.hourly_limit}.",
            status)
    if used.burst_used >= used.burst_limit:
        # UNVERIFIED: the message text; the errorCode is DocuSign's.
        return error_response(
            "BURST_APIINVOCATION_LIMIT_EXCEEDED",
            f"The maximum number of API invocations per 30 seconds has been exceeded. The burst limit is {used.burst_limit}.",
            status)
    envelope_id = envelope_id_in(request.path)
    if envelope_id and request.method in ("GET", "PUT"):
        return _envelope_refusal(envelope_id, request.method, now, status)
    return None


def _envelope_refusal(envelope_id: str, method: str, now: datetime, status: int) -> HttpResponse | None:
    # UNVERIFIED: the messages; the four errorCodes are DocuSign's (docs/docusign.md §9).
    calls = RequestLog.objects.filter(envelope_id=envelope_id, method=method)
    if method == "GET":
        limits = (("Hourly_Envelope_Polling_Limit_Exceeded", HOUR, ENVELOPE_GETS_PER_HOUR, "hourly polling"),
                  ("Burst_Envelope_Polling_Limit_Exceeded", BURST_WINDOW, ENVELOPE_GETS_PER_BURST, "burst polling"))
    else:
        limits = (("Hourly_APIInvocation_Envelope_Limit_Exceeded", HOUR, ENVELOPE_PUTS_PER_HOUR, "hourly update"),
                  ("Burst_APIInvocation_Envelope_Limit_Exceeded", BURST_WINDOW, ENVELOPE_PUTS_PER_BURST, "burst update"))
    for error_code, window, limit, what in limits:
        if calls.filter(at__gt=now - window).count() >= limit:
            return error_response(error_code, f"The {what} limit of {limit} requests for this envelope has been exceeded.",
                                  status)
    return None


def add_headers(response: HttpResponseBase, used: Usage) -> None:
    """The rate-limit headers DocuSign puts on every REST response; the current request counts as used."""
    response["X-RateLimit-Limit"] = str(used.hourly_limit)
    response["X-RateLimit-Remaining"] = str(max(used.hourly_limit - used.hourly_used - 1, 0))
    response["X-RateLimit-Reset"] = str(int(used.reset.timestamp()))
    response["X-BurstLimit-Limit"] = str(used.burst_limit)
    response["X-BurstLimit-Remaining"] = str(max(used.burst_limit - used.burst_used - 1, 0))


def envelope_get_times(envelope_id: str) -> list[datetime]:
    """When (sandbox clock) every GET on this envelope or its sub-objects arrived, oldest first."""
    return list(RequestLog.objects.filter(envelope_id=envelope_id.lower(), method="GET")
                .order_by("at", "pk").values_list("at", flat=True))
