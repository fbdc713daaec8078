"""Per-request behaviour of the sandbox's origin: fault injection, rate limits and their headers, request log.

Applied by docusign_sandbox.server.SandboxHandler around every sandbox request (never to the portal). The
control API and console under `/_sandbox/` are the test harness talking to the sandbox, not DocuSign
traffic: they are neither faulted, limited nor logged, so the log holds only what a DocuSign client sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from django.http import HttpRequest
from django.http.response import HttpResponseBase

from . import clock, faults, limits
from .callers import pop_caller, record_caller
from .models import Fault, RequestLog

CONTROL_PREFIX = "/_sandbox/"
REST_PREFIX = "/restapi/"
NO_RESPONSE = 0  # the status logged for a dropped connection


class SandboxMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path.startswith(CONTROL_PREFIX):
            return self.get_response(request)
        now = clock.now()
        fault = faults.claim(request.path)
        replaced = faults.replacement(fault.kind) if fault is not None else None
        response = replaced if replaced is not None else self._answer(request, now, fault)
        _log(request, response, now)
        return response

    def _answer(self, request: HttpRequest, now: datetime, fault: Fault | None) -> HttpResponseBase:
        """The real answer, subject to the rate limits, possibly slowed down or cut short by a fault."""
        is_rest = request.path.startswith(REST_PREFIX)
        account = limits.path_account(request.path) if is_rest else None
        used = limits.usage(account, now)
        refused = None
        user_id = limits.authenticated_member(request, account) if account is not None else ""
        if account is not None and user_id:
            # Known before the view runs, so that a refused call is logged and counted against the account too.
            record_caller(request, account_id=account.account_id, user_id=user_id)
            refused = limits.refusal(request, used, now)
        response = refused or self.get_response(request)
        if fault is not None and fault.kind == "timeout":
            faults.delay()  # after the work is done: the client cannot tell whether its request took effect
        if fault is not None and fault.kind == "malformed":
            response = faults.truncated(response)
        if is_rest:
            limits.add_headers(response, used)
            response["X-DocuSign-TraceToken"] = str(uuid.uuid4())
        return response


def _log(request: HttpRequest, response: HttpResponseBase, now: datetime) -> None:
    dropped = faults.DROP_CONNECTION_HEADER in response
    account_id, user_id = pop_caller(request)
    RequestLog.objects.create(
        at=now, method=request.method or "", path=request.path[:500],
        status=NO_RESPONSE if dropped else response.status_code,
        account_id=account_id, user_id=user_id,
        envelope_id=limits.envelope_id_in(request.path),
    )
