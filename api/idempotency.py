"""`Idempotency-Key` on every POST: the first request with a key does the work; a repeat gets its answer back.

The key is claimed by inserting a row unique on (organization, key) in its own committed transaction BEFORE any
DocuSign call, so of two concurrent requests with one key exactly one inserts; the other finds the row and is told
409 while the first runs (the database's constraint decides, not timing). A finished answer is kept 24 hours and
replayed for the same method, path and body (`Idempotent-Replayed: true`); another body with the key is 422. An
answer a retry could change (429, 5xx, 409 busy) is not kept: the row is deleted so the client can retry.

An answer that shows a secret once (a webhook endpoint's signing secret, `shows_secret_once`) is kept without its
`secret` (the database never holds it in clear); a replay of it is 409 `secret_not_replayed` naming the object, whose
secret the caller rotates if the first answer was lost.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from .auth import api_key_of
from .models import IDEMPOTENCY_KEY_MAX, IdempotentRequest
from .problems import ApiProblem, problem_response

HEADER = "Idempotency-Key"
KEPT = timedelta(hours=24)
NOT_KEPT_STATUSES = frozenset({409, 429})
SECRET_WITHHELD = "secret_withheld"  # the kept body of an answer whose secret was shown once

Handler = Callable[..., Response]


def request_hash(request: Request) -> str:
    """SHA-256 of method, path, media type and body; a multipart body without its boundary, which each client
    (curl included) chooses at random per request, so a retry of the same upload is the same request."""
    media_type, _, parameters = (request.content_type or "").partition(";")
    body = request._request.body
    boundary = next((p.strip()[len("boundary="):].strip('"') for p in parameters.split(";")
                     if p.strip().startswith("boundary=")), "")
    if media_type.strip() == "multipart/form-data" and boundary:
        body = body.replace(boundary.encode("latin-1"), b"")
    digest = hashlib.sha256()
    for part in (request.method or "", request.path, media_type.strip()):
        digest.update(part.encode() + b"\0")
    digest.update(body)
    return digest.hexdigest()


def _key(request: Request) -> str:
    key = request.headers.get(HEADER, "")
    if not key:
        raise ApiProblem(400, "idempotency_key_required", f"Every POST needs an {HEADER} header (a unique string "
                         "of your choice, e.g. a UUID): a retry with the same key never does the work twice.",
                         field=HEADER)
    if len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable() or not key.isascii():
        raise ApiProblem(400, "invalid_request", f"{HEADER} is 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII characters.",
                         field=HEADER)
    return key


def _claim(organization_id: int, key: str, digest: str) -> IdempotentRequest | None:
    """Insert the row (None: this request does the work), or the row a request with this key inserted first."""
    expired = timezone.now() - KEPT
    for _ in range(2):
        try:
            with transaction.atomic():
                IdempotentRequest.objects.create(organization_id=organization_id, key=key, request_hash=digest)
            return None
        except IntegrityError:
            existing = IdempotentRequest.objects.filter(organization_id=organization_id, key=key).first()
            if existing is None:
                continue  # deleted in between (the other request failed retryably): try to claim it again
            if existing.created < expired:
                IdempotentRequest.objects.filter(pk=existing.pk, created__lt=expired).delete()
                continue
            return existing
    raise ApiProblem(409, "idempotency_request_in_progress", "A request with this Idempotency-Key is being processed; "
                     "retry shortly.", retry_after=1)


def idempotent(handler: Handler) -> Handler:
    """Wrap a view's `post` so that it runs at most once per organization and Idempotency-Key."""

    @wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = _key(request)
        organization_id = api_key_of(request).organization_id
        digest = request_hash(request)
        existing = _claim(organization_id, key, digest)
        if existing is not None:
            if existing.request_hash != digest:
                raise ApiProblem(422, "idempotency_key_reused", f"This {HEADER} was used with another request; "
                                 "use a new key for a new request.", field=HEADER)
            if existing.status_code is None:
                raise ApiProblem(409, "idempotency_request_in_progress", "A request with this Idempotency-Key is "
                                 "being processed; retry shortly.", retry_after=1)
            if isinstance(existing.response_body, dict) and existing.response_body.get(SECRET_WITHHELD):
                raise ApiProblem(409, "secret_not_replayed", "The first request with this Idempotency-Key succeeded "
                                 f"(id {existing.response_body.get('id')}); its secret is shown only once: rotate the "
                                 "secret to get a new one.")
            replay = Response(existing.response_body, status=existing.status_code,
                              content_type="application/problem+json" if existing.status_code >= 400 else None)
            replay["Idempotent-Replayed"] = "true"
            return replay
        try:
            response = handler(view, request, *args, **kwargs)
        except Exception as exc:
            refusal = problem_response(exc)
            if refusal is None:
                IdempotentRequest.objects.filter(organization_id=organization_id, key=key).delete()
                raise
            response = refusal
        if response.status_code >= 500 or response.status_code in NOT_KEPT_STATUSES:
            IdempotentRequest.objects.filter(organization_id=organization_id, key=key).delete()
        else:
            IdempotentRequest.objects.filter(organization_id=organization_id, key=key).update(
                status_code=response.status_code, response_body=_kept_body(response))
        return response

    return wrapper


def shows_secret_once(response: Response) -> Response:
    """Mark an answer that carries a `secret` shown once: it is kept without it, and never replayed."""
    response.shows_secret_once = True  # type: ignore[attr-defined]
    return response


def _kept_body(response: Response) -> Any:
    if not getattr(response, "shows_secret_once", False) or response.status_code >= 400:
        return response.data
    return {SECRET_WITHHELD: True, "id": str(response.data.get("id", ""))}
