"""Errors as RFC 9457 problem details (`application/problem+json`), each with a stable `code` the ISV can branch on.

Every refusal the API makes goes through `problem_response`: DRF's own (validation, authentication, throttling),
Django's (ValidationError from a service, Http404), DocuSign's (a `DocuSignError` from docusign_integration, with
DocuSign's `errorCode` as `docusign_error_code`) and the API's own `ApiProblem`. Bad input names its field(s) in
`errors`; DocuSign's rate-limit exhaustion is a 429 whose Retry-After is DocuSign's reset.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.response import Response

from docusign_integration.client import errors as docusign_errors
from docusign_integration.envelopes.sending import NotTheSigner, SendingUnavailable, SetupRequired

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "tag:docusign-partner-portal,2026:problem:"


class ApiProblem(exceptions.APIException):
    """A refusal of the API's own: an HTTP status, a stable code and a sentence."""

    def __init__(self, status_code: int, code: str, detail: str, *, retry_after: int | None = None,
                 field: str | None = None) -> None:
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.problem_code = code
        self.retry_after = retry_after
        self.field = field


def problem(status_code: int, code: str, detail: str, **extra: Any) -> Response:
    body = {"type": TYPE_BASE + code, "title": code.replace("_", " ").capitalize(), "status": status_code,
            "detail": detail, "code": code, **extra}
    return Response(body, status=status_code, content_type=CONTENT_TYPE)


def _field_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF's nested error detail flattened to [{field, message}] with dotted paths (recipients.0.email)."""
    if isinstance(detail, dict):
        # DRF's non_field_errors belong to the object that holds them (the body, or "recipients" ...).
        return [e for key, value in detail.items()
                for e in _field_errors(value, prefix if key == "non_field_errors" else
                                       (f"{prefix}.{key}" if prefix else str(key)))]
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [{"field": prefix or "body", "message": str(item)} for item in detail]
        return [e for index, item in enumerate(detail) for e in _field_errors(item, f"{prefix}.{index}" if prefix
                                                                                 else str(index))]
    return [{"field": prefix or "body", "message": str(detail)}]


def _seconds_until(moment: Any) -> int:
    return max(1, math.ceil((moment - timezone.now()).total_seconds()))


def problem_response(exc: Exception) -> Response | None:
    """The problem response for `exc`, or None when it is not a refusal (a bug: Django's 500 handling takes over)."""
    if isinstance(exc, ApiProblem):
        extra: dict[str, Any] = {"errors": [{"field": exc.field, "message": str(exc.detail)}]} if exc.field else {}
        response = problem(exc.status_code, exc.problem_code, str(exc.detail), **extra)
        if exc.retry_after:
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, exceptions.ValidationError):
        fields = _field_errors(exc.detail)
        named = ", ".join(dict.fromkeys(e["field"] for e in fields))
        return problem(400, "invalid_request", f"Check these fields: {named}.", errors=fields)
    if isinstance(exc, DjangoValidationError):
        messages = exc.messages
        return problem(400, "invalid_request", " ".join(messages),
                       errors=[{"field": "body", "message": m} for m in messages])
    if isinstance(exc, Http404 | exceptions.NotFound | NotTheSigner):
        return problem(404, "not_found", "No such object in this organization.")
    if isinstance(exc, exceptions.Throttled):
        wait = math.ceil(getattr(exc, "wait", None) or 1)
        response = problem(429, "throttled", f"Too many requests with this API key; retry in {wait} s.")
        response["Retry-After"] = str(wait)
        return response
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response = problem(401, "unauthenticated", str(exc.detail))
        response["WWW-Authenticate"] = "Api-Key"
        return response
    if isinstance(exc, exceptions.APIException):  # method not allowed, unsupported media type, parse error ...
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "invalid_request"
        return problem(exc.status_code, str(code), str(exc.detail))
    if isinstance(exc, docusign_errors.DocuSignError):
        return _docusign_problem(exc)
    return None


def _docusign_problem(exc: docusign_errors.DocuSignError) -> Response:
    extra = {"docusign_error_code": exc.error_code} if exc.error_code else {}
    if isinstance(exc, SetupRequired):  # the client's own account is not set up: its client admin must act
        return problem(409, "setup_required", exc.user_message)
    if isinstance(exc, SendingUnavailable):
        return problem(409, "organization_not_ready", exc.user_message)
    if isinstance(exc, docusign_errors.RateLimited):
        wait = _seconds_until(exc.reset_at)
        response = problem(429, "docusign_rate_limited", exc.user_message, **extra)
        response["Retry-After"] = str(wait)
        return response
    if isinstance(exc, docusign_errors.TransientError):
        response = problem(503, "docusign_unavailable", exc.user_message, **extra)
        response["Retry-After"] = "5"
        return response
    if isinstance(exc, docusign_errors.ConsentRequired | docusign_errors.InvalidGrant | docusign_errors.Unauthorized):
        return problem(409, "organization_not_ready", exc.user_message, **extra)
    if isinstance(exc, docusign_errors.BadResponse | docusign_errors.UntrustedHost):
        logger.warning("api_docusign_bad_response error_code=%s", exc.error_code)
        return problem(502, "docusign_bad_response", exc.user_message, **extra)
    if isinstance(exc, docusign_errors.NotFound):
        return problem(404, "not_found", "DocuSign has no such object for this organization.", **extra)
    # DocuSign refused the request as it stands (its errorCode and message say why): the caller must change something.
    detail = f"DocuSign refused the request: {exc.description or exc.user_message}"
    return problem(422, "docusign_refused", detail, **extra)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER for the API."""
    response = problem_response(exc)
    if response is not None and response.status_code == status.HTTP_401_UNAUTHORIZED:
        response["WWW-Authenticate"] = "Api-Key"
    return response
