"""THE one choke point for every request the portal sends to DocuSign (docs/security.md BG-1, BG-2, BI-1, BI-2).

Every call here: has settings.DOCUSIGN_HTTP_TIMEOUT; never follows a redirect (a bearer token must not be
forwarded to whatever host a 302 names); reads at most `max_bytes`; records the account's rate-limit headers
and refuses to call while the account is blocked; maps every failure to one class of `errors`; retries only
TransientError, only for idempotent requests, with capped exponential back-off and full jitter (the rate-limit
state is kept outside the caller's transaction: `rate_limits`); and logs
method, host, path, status and elapsed time, never a query string, header, body or token.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from docusign_integration.client import errors, rate_limits
from portal import metrics

logger = logging.getLogger(__name__)

session = requests.Session()
# Proxies and netrc from the environment could silently add credentials or hops: DocuSign calls go direct.
session.trust_env = False

DEFAULT_MAX_BYTES = 1_048_576
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RATE_LIMIT_CODES = frozenset({
    "HOURLY_APIINVOCATION_LIMIT_EXCEEDED", "BURST_APIINVOCATION_LIMIT_EXCEEDED",
    "HOURLY_ENVELOPE_POLLING_LIMIT_EXCEEDED", "BURST_ENVELOPE_POLLING_LIMIT_EXCEEDED",
    "HOURLY_APIINVOCATION_ENVELOPE_LIMIT_EXCEEDED", "BURST_APIINVOCATION_ENVELOPE_LIMIT_EXCEEDED",
    "API_REQUEST_IS_THROTTLED",
})
NOT_FOUND_CODES = frozenset({"ENVELOPE_DOES_NOT_EXIST", "DOCUMENT_DOES_NOT_EXIST", "USER_DOES_NOT_EXIST_IN_SYSTEM"})
PERMISSION_CODES = frozenset({"USER_LACKS_PERMISSIONS", "ACCOUNT_LACKS_PERMISSIONS", "ACCOUNT_NOT_AUTHORIZED_FOR_ENVELOPE"})
UNAUTHORIZED_CODES = frozenset({"AUTHORIZATION_INVALID_TOKEN", "USER_AUTHENTICATION_FAILED"})
BURST_WINDOW = timedelta(seconds=30)  # DocuSign's burst window (docs/docusign.md §9)
Params = dict[str, str]



@dataclass(frozen=True)
class Answer:
    """A 2xx answer, read in full: what leaves this module instead of requests' response object."""

    status_code: int
    content: bytes


class Download:
    """The body of a 2xx answer, unread: iterate it in chunks (capped at `max_bytes`) once, then it is closed."""

    def __init__(self, response: requests.Response, *, max_bytes: int) -> None:
        self._response = response
        self._max_bytes = max_bytes

    def __iter__(self) -> Iterator[bytes]:
        return _iter_capped(self._response, max_bytes=self._max_bytes)

    def close(self) -> None:
        self._response.close()


def _setting(name: str, default: float) -> float:
    value: float = getattr(settings, name, default)
    return value


# Every local here and in requests/urllib3 below holds a bearer token, Basic credentials or a token request body:
# error reports (docs/security.md TS-8) show none of them.
@sensitive_variables()
def call(method: str, url: str, *, environment: str, account_id: str | None = None, bearer: str | None = None,
         basic: tuple[str, str] | None = None, json: Any = None, data: Any = None, params: Params | None = None,
         headers: dict[str, str] | None = None, idempotent: bool | None = None,
         max_bytes: int = DEFAULT_MAX_BYTES) -> Answer:
    """Send one DocuSign request and return its 2xx answer, or raise a `errors.DocuSignError`."""
    response = _call(method, url, environment=environment, account_id=account_id, bearer=bearer, basic=basic,
                     json=json, data=data, params=params, headers=headers, idempotent=idempotent, stream=False,
                     max_bytes=max_bytes)
    return Answer(status_code=response.status_code, content=response.content)


@sensitive_variables()
def download(method: str, url: str, *, environment: str, account_id: str | None = None, bearer: str | None = None,
             params: Params | None = None, headers: dict[str, str] | None = None, max_bytes: int) -> Download:
    """Like `call`, for a large body: the 2xx answer's body is left unread, to be iterated from the `Download`."""
    response = _call(method, url, environment=environment, account_id=account_id, bearer=bearer, basic=None,
                     json=None, data=None, params=params, headers=headers, idempotent=None, stream=True,
                     max_bytes=max_bytes)
    return Download(response, max_bytes=max_bytes)


@sensitive_variables()
def _call(method: str, url: str, *, environment: str, account_id: str | None, bearer: str | None,
          basic: tuple[str, str] | None, json: Any, data: Any, params: Params | None,
          headers: dict[str, str] | None, idempotent: bool | None, stream: bool, max_bytes: int) -> requests.Response:
    method = method.upper()
    if account_id:
        _refuse_if_blocked(environment, account_id)
    request_headers = {"Accept": "application/json", **(headers or {})}
    if bearer is not None:
        request_headers["Authorization"] = f"Bearer {bearer}"
    retry = (method in IDEMPOTENT_METHODS) if idempotent is None else idempotent
    tries = max(1, int(_setting("DOCUSIGN_HTTP_MAX_TRIES", 3)))
    for attempt in range(1, tries + 1):
        try:
            return _send_once(method, url, environment=environment, account_id=account_id, headers=request_headers,
                              basic=basic, json_body=json, data=data, params=params, stream=stream, max_bytes=max_bytes)
        except errors.TransientError:
            if not retry or attempt == tries:
                raise
            time.sleep(_backoff(attempt))
    raise AssertionError("unreachable")  # the loop always returns or raises


def _backoff(attempt: int) -> float:
    """Full jitter: uniform(0, min(cap, base * 2**attempt)); a few seconds at most over all tries."""
    base = _setting("DOCUSIGN_HTTP_BACKOFF_BASE", 0.25)
    cap = _setting("DOCUSIGN_HTTP_BACKOFF_MAX", 2.0)
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))


def _send_once(method: str, url: str, *, environment: str, account_id: str | None, headers: dict[str, str],
               basic: tuple[str, str] | None, json_body: Any, data: Any, params: Params | None, stream: bool,
               max_bytes: int) -> requests.Response:
    parts = urlsplit(url)
    started = time.monotonic()
    status: int | str = "error"
    try:
        try:
            response = session.request(method, url, headers=headers, auth=basic, json=json_body, data=data,
                                       params=params, timeout=settings.DOCUSIGN_HTTP_TIMEOUT, stream=True,
                                       allow_redirects=False)
        except requests.Timeout:
            status = "timeout"
            raise errors.TransientError("DocuSign did not answer in time; try again shortly.",
                                        error_code="TIMEOUT") from None
        except requests.exceptions.SSLError:
            # A certificate that does not verify is a configuration or interception problem, not a blip: retrying
            # the same request cannot help, and a person must look (task_retry treats it as permanent).
            status = "tls-error"
            raise errors.DocuSignError("DocuSign's certificate could not be verified: check the system's CA "
                                       "certificates and any proxy between the portal and DocuSign.",
                                       error_code="TLS_ERROR") from None
        except requests.RequestException:
            # The exception text can hold the URL (and so a query string): it is not kept.
            status = "connection-error"
            raise errors.TransientError("The portal could not reach DocuSign; try again shortly.",
                                        error_code="CONNECTION_ERROR") from None
        status = response.status_code
        if account_id:
            _record_limits(environment, account_id, response)
        if 200 <= response.status_code < 300 and stream:
            _check_declared_length(response, max_bytes)
            return response
        _read_capped(response, max_bytes, deadline=started + sum(settings.DOCUSIGN_HTTP_TIMEOUT))
        if 200 <= response.status_code < 300:
            return response
        raise _error_for(response, environment=environment, account_id=account_id)
    finally:
        metrics.observe_docusign_call(method, url, data, status, time.monotonic() - started)
        logger.info("docusign_call method=%s host=%s path=%s status=%s elapsed_ms=%d",
                    method, parts.netloc, parts.path, status, (time.monotonic() - started) * 1000)


def _check_declared_length(response: requests.Response, max_bytes: int) -> None:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        response.close()
        raise errors.BadResponse(f"DocuSign's answer is larger than the {max_bytes}-byte limit.",
                                 status=response.status_code, error_code="RESPONSE_TOO_LARGE")


def _read_capped(response: requests.Response, max_bytes: int, *, deadline: float) -> None:
    """Read the body into `response._content`, never more than `max_bytes` and never past `deadline`."""
    _check_declared_length(response, max_bytes)
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > max_bytes:
                raise errors.BadResponse(f"DocuSign's answer is larger than the {max_bytes}-byte limit.",
                                         status=response.status_code, error_code="RESPONSE_TOO_LARGE")
            if time.monotonic() > deadline:  # a server trickling bytes would otherwise beat the read timeout
                raise errors.TransientError("DocuSign did not finish answering in time; try again shortly.",
                                            status=response.status_code, error_code="TIMEOUT")
            chunks.append(chunk)
    except requests.RequestException:
        raise errors.TransientError("The connection to DocuSign broke while reading the answer; try again shortly.",
                                    status=response.status_code, error_code="CONNECTION_ERROR") from None
    finally:
        response.close()
    response._content = b"".join(chunks)  # requests' own cache of the body: .content/.json() read it from here


def _iter_capped(response: requests.Response, *, max_bytes: int, chunk_size: int = 65536) -> Iterator[bytes]:
    """The body of a `stream=True` response in chunks, raising BadResponse once more than `max_bytes` arrive."""
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=chunk_size):
            size += len(chunk)
            if size > max_bytes:
                raise errors.BadResponse(f"DocuSign's answer is larger than the {max_bytes}-byte limit.",
                                         status=response.status_code, error_code="RESPONSE_TOO_LARGE")
            yield chunk
    except requests.RequestException:
        raise errors.TransientError("The connection to DocuSign broke during the download; try again.",
                                    status=response.status_code, error_code="CONNECTION_ERROR") from None
    finally:
        response.close()


def json_or_raise(answer: Answer) -> dict[str, Any]:
    """The JSON object in `answer`, or BadResponse for anything else (HTML, truncated JSON, a list ...)."""
    try:
        body = json.loads(answer.content)
    except (ValueError, UnicodeDecodeError):
        raise errors.BadResponse("DocuSign's answer is not valid JSON.", status=answer.status_code,
                                 error_code="INVALID_JSON") from None
    if not isinstance(body, dict):
        raise errors.BadResponse("DocuSign's answer is not a JSON object.", status=answer.status_code,
                                 error_code="UNEXPECTED_SHAPE")
    return body


def _error_body(response: requests.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _error_for(response: requests.Response, *, environment: str, account_id: str | None) -> errors.DocuSignError:
    """The exception for a non-2xx answer (docs/docusign.md §2.3 token errors, §9 REST errors)."""
    status = response.status_code
    if 300 <= status < 400:
        return errors.BadResponse("DocuSign answered with a redirect, which the portal does not follow.",
                                  status=status, error_code="REDIRECT")
    body = _error_body(response)
    oauth_error, description = _text(body.get("error")), _text(body.get("error_description"))
    error_code, message = _text(body.get("errorCode")), _text(body.get("message"))
    if oauth_error == "consent_required":
        return errors.ConsentRequired(status=status, error_code=oauth_error, description=description)
    if oauth_error == "invalid_token":  # RFC 6750: userinfo's answer to a dead bearer token
        return errors.Unauthorized(status=status, error_code=oauth_error, description=description)
    if oauth_error:
        return errors.InvalidGrant.from_oauth(oauth_error, description, status)
    if status == 429 or error_code.upper() in RATE_LIMIT_CODES:
        return _rate_limited(response, environment, account_id, error_code, message)
    if status >= 500:
        return errors.TransientError(status=status, error_code=error_code, description=message)
    refusal: type[errors.DocuSignError] | None = None
    if status == 401 or error_code in UNAUTHORIZED_CODES:
        refusal = errors.Unauthorized
    elif error_code == "USER_DOES_NOT_BELONG_TO_SPECIFIED_ACCOUNT":
        refusal = errors.NotAMember
    elif error_code in PERMISSION_CODES or status == 403:
        refusal = errors.PermissionDenied
    elif error_code in NOT_FOUND_CODES or status == 404:
        refusal = errors.NotFound
    if refusal is not None:
        return refusal(status=status, error_code=error_code, description=message)
    if not error_code:
        return errors.BadResponse("DocuSign refused the request with an answer the portal could not understand.",
                                  status=status, error_code="UNEXPECTED_ERROR_BODY")
    return errors.DocuSignError(status=status, error_code=error_code, description=message)


def _rate_limited(response: requests.Response, environment: str, account_id: str | None, error_code: str,
                  message: str) -> errors.RateLimited:
    """RateLimited with `reset_at`, and the account blocked until then so no further call is even attempted."""
    now = timezone.now()
    retry_after = response.headers.get("Retry-After", "").strip()
    reset_header = _int_header(response, "X-RateLimit-Reset")
    if retry_after.isdigit():
        reset_at = now + timedelta(seconds=int(retry_after))
    elif error_code.upper().startswith("HOURLY_APIINVOCATION") and reset_header:
        reset_at = datetime.fromtimestamp(reset_header, tz=UTC)
    else:
        reset_at = now + BURST_WINDOW
    # A reset far in the future would be a lie or a clock problem: never block longer than DocuSign's hour.
    reset_at = min(max(reset_at, now), now + timedelta(hours=1))
    if account_id:
        rate_limits.record(environment, account_id, blocked_until=reset_at)
    return errors.RateLimited(status=response.status_code, error_code=error_code or "RATE_LIMITED",
                              description=message, reset_at=reset_at)


def _int_header(response: requests.Response, name: str) -> int | None:
    value = response.headers.get(name, "").strip()
    return int(value) if value.isdigit() else None


def _record_limits(environment: str, account_id: str, response: requests.Response) -> None:
    values: dict[str, int | datetime | None] = {
        "limit": _int_header(response, "X-RateLimit-Limit"),
        "remaining": _int_header(response, "X-RateLimit-Remaining"),
        "burst_limit": _int_header(response, "X-BurstLimit-Limit"),
        "burst_remaining": _int_header(response, "X-BurstLimit-Remaining"),
    }
    reset = _int_header(response, "X-RateLimit-Reset")
    if reset is not None:
        values["reset_at"] = datetime.fromtimestamp(reset, tz=UTC)
    rate_limits.record(environment, account_id, **{key: value for key, value in values.items() if value is not None})


def _refuse_if_blocked(environment: str, account_id: str) -> None:
    blocked_until = rate_limits.blocked_until(environment, account_id)
    if blocked_until:
        raise errors.RateLimited("DocuSign's API rate limit for this account was reached; no call is made until it resets.",
                                 error_code="BLOCKED_LOCALLY", reset_at=blocked_until)
