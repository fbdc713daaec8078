"""OAuth `state` and PKCE for every browser redirect to DocuSign (docs/security.md OA-1, OA-2, OA-5).

A state value is 32 random bytes, stored only as its sha256, bound to the browser session and the portal
user that started the flow, valid for 10 minutes and usable once. The PKCE verifier lives in the state
record, encrypted, so it never reaches the browser. The one redirect URI routes by `peek_flow`.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from docusign_integration.keys import encryption
from docusign_integration.oauth.models.state import OAuthState
from tenants import audit
from tenants.models import ClientOrganization

logger = logging.getLogger("docusign_integration.security")

STATE_LIFETIME = timedelta(minutes=10)
MAX_STATE_LENGTH = 128  # ours are 43 characters; anything much longer is not ours and is not hashed
PURGE_AFTER = timedelta(days=1)  # used/expired rows are kept a while so replays log as "reused", not "unknown"


class OAuthFlow(models.TextChoices):
    """Every flow that sends a browser to DocuSign; each has exactly one handler on the one redirect URI
    (`docusign_integration.urls.CALLBACK_HANDLERS`, checked by tests/onboarding/test_callback_flows.py)."""

    AUTHORIZATION_CODE = "authorization_code", "Connect to DocuSign (Authorization Code grant)"
    CONSENT_INDIVIDUAL = "consent_individual", "Individual consent for the system user"
    CONSENT_ADMIN = "consent_admin", "Organization admin consent"


class StateRejected(Exception):
    """The callback's state is not one this session may use; `reason` is for logs, the message for people."""

    user_message = "This sign-in link is invalid or has expired. Please start again."

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"OAuth state rejected: {reason}")


@dataclass(frozen=True)
class OAuthStateRecord:
    """What the flow's start stored for its callback."""

    flow: str
    environment: str
    organization_id: int | None
    user_id: int | None
    payload: dict
    code_verifier: str | None = field(default=None, repr=False)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _session_key(request: HttpRequest) -> str:
    """The session's key, creating and persisting the session if it has none yet."""
    if not request.session.session_key:
        request.session.save()
    # Make SessionMiddleware send the cookie even for a fresh anonymous session.
    request.session.modified = True
    key = request.session.session_key
    if key is None:  # save() above always gives the session a key
        raise RuntimeError("The session backend gave the session no key.")
    return key


def _user_id(request: HttpRequest) -> int | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def new_code_verifier() -> str:
    """A PKCE verifier: 43 characters of base64url from 32 random bytes (RFC 7636 §4.1)."""
    return secrets.token_urlsafe(32)


def code_challenge(verifier: str) -> str:
    """The S256 challenge: BASE64URL(SHA256(ascii(verifier))) without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def issue_state(request: HttpRequest, *, flow: str, environment: str, organization_id: int | None,
                payload: dict | None = None, code_verifier: str | None = None) -> str:
    """A fresh state value for a redirect to DocuSign, bound to this session and user for 10 minutes.

    `flow` must be an `OAuthFlow`: a state for a flow without a handler would strand the person at the callback.
    """
    flow = OAuthFlow(flow)  # ValueError for a flow the callback cannot route
    now = timezone.now()
    OAuthState.objects.filter(expires_at__lt=now - PURGE_AFTER).delete()
    state = secrets.token_urlsafe(32)
    record = OAuthState(state_hash=_sha256(state), flow=flow, environment=environment, organization_id=organization_id,
                        session_key_hash=_sha256(_session_key(request)), user_id=_user_id(request),
                        payload=payload or {}, created_at=now, expires_at=now + STATE_LIFETIME)
    if code_verifier:
        record.code_verifier_ciphertext = encryption.encrypt(
            code_verifier, context=encryption.model_context(record, "code_verifier_ciphertext"))
    record.save()
    return state


def _lookup(state: object) -> OAuthState | None:
    if not isinstance(state, str) or not state or len(state) > MAX_STATE_LENGTH:
        return None
    return OAuthState.objects.filter(state_hash=_sha256(state)).first()


def peek_flow(state: object) -> str | None:
    """The flow of a live (unused, unexpired) state, for routing the one redirect URI; changes nothing."""
    record = _lookup(state)
    if record is None or record.used_at is not None or record.expires_at <= timezone.now():
        return None
    return record.flow


def _reject(reason: str) -> StateRejected:
    logger.warning("oauth_state_rejected reason=%s", reason)
    return StateRejected(reason)


def consume_state(request: HttpRequest, state: object, *, flow: str) -> OAuthStateRecord:
    """Use `state` once: StateRejected unless it is live, this session's, this user's and for `flow`."""
    if not isinstance(state, str) or not state:
        raise _reject("missing")
    record = _lookup(state)
    if record is None:
        raise _reject("unknown")
    now = timezone.now()
    session_key = request.session.session_key or ""
    if record.used_at is not None:
        raise _reject("reused")
    if record.expires_at <= now:
        raise _reject("expired")
    if not secrets.compare_digest(record.session_key_hash, _sha256(session_key)):
        raise _reject("other_session")
    if record.user_id != _user_id(request):
        raise _reject("other_user")
    if record.flow != flow:
        raise _reject("wrong_flow")
    # The conditional UPDATE is the single-use guarantee: of two concurrent callbacks only one updates the row.
    if not OAuthState.objects.filter(pk=record.pk, used_at__isnull=True).update(used_at=now):
        raise _reject("reused")
    verifier = None
    if record.code_verifier_ciphertext:
        verifier = encryption.decrypt(record.code_verifier_ciphertext,
                                      context=encryption.model_context(record, "code_verifier_ciphertext"))
    return OAuthStateRecord(flow=record.flow, environment=record.environment, organization_id=record.organization_id,
                            user_id=record.user_id, payload=record.payload, code_verifier=verifier)


def oauth_states_cancel(*, acting_user: User | None, organization: ClientOrganization) -> int:
    """Cancel `organization`'s OAuth flows in progress (consent, Connect to DocuSign): their callbacks then find no
    state and change nothing. For offboarding (docs/security.md TS-6); audited when there was any. Returns how many."""
    with transaction.atomic():
        cancelled, _ = OAuthState.objects.filter(organization_id=organization.pk).delete()
        if cancelled:
            audit.record(actor=acting_user, action="oauth_state.cancel", organization=organization,
                         target=organization, after={"oauth_states_cancelled": cancelled})
    return cancelled
