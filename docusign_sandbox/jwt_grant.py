"""The JWT bearer grant's checks, with DocuSign's error codes (docs/docusign.md §2.1, §2.3, §11.1).

PyJWT verifies only the RS256 signature here; every claim is checked by hand against the sandbox clock so
that each refusal carries the `error_description` DocuSign gives for it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeGuard

import jwt
from jwt.types import Options

from . import clock
from .consent import JWT_REQUIRED_SCOPES, has_consent, scope_set, scope_string
from .models import IntegrationKey, User

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"

# Signature only: claims are DocuSign's business, below, on the sandbox clock.
_SIGNATURE_ONLY: Options = {
    "verify_signature": True, "verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False,
    "verify_iss": False, "verify_sub": False, "verify_jti": False, "require": [],
}


class JwtGrantError(Exception):
    """A refusal: `error` and, except for consent_required, `error_description` (docs/docusign.md §2.3)."""

    def __init__(self, error: str, description: str | None = None) -> None:
        super().__init__(description or error)
        self.error, self.description = error, description


def _invalid_grant(description: str) -> JwtGrantError:
    return JwtGrantError("invalid_grant", description)


@dataclass(frozen=True)
class JwtGrant:
    user: User
    integration_key: IntegrationKey
    scopes: str


def check_assertion(assertion: str, host: str) -> JwtGrant:
    """Check a JWT assertion sent to the account server at `host` (host[:port]); raise JwtGrantError."""
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise _invalid_grant("no_valid_keys_or_signatures") from exc

    issuer = claims.get("iss")
    integration_key = (IntegrationKey.objects.filter(client_id__iexact=issuer).first()
                       if isinstance(issuer, str) else None)
    if integration_key is None:
        raise _invalid_grant("issuer_not_found")
    # An aud naming another host than the one called is reported as issuer_not_found (docs/docusign.md §2.3).
    if claims.get("aud") != host:
        raise _invalid_grant("issuer_not_found")
    if not _signed_by_registered_key(assertion, integration_key):
        raise _invalid_grant("no_valid_keys_or_signatures")

    now = clock.now().timestamp()
    expires = claims.get("exp")
    if not _is_number(expires):
        raise _invalid_grant("no_valid_keys_or_signatures")
    if expires <= now:
        raise _invalid_grant("expired_grant")
    not_before = claims.get("nbf")
    if not_before is not None and (not _is_number(not_before) or not_before > now):
        raise _invalid_grant("no_valid_keys_or_signatures")
    # exp - iat beyond an hour is not refused: DocuSign ignores it and caps the token at 3600 s (docs/docusign.md §2.1).

    user = _active_user(claims.get("sub"))
    if user is None:
        raise _invalid_grant("user_not_found")

    requested = scope_set(claims["scope"]) if isinstance(claims.get("scope"), str) else set()
    if not requested >= JWT_REQUIRED_SCOPES or not has_consent(user, integration_key, requested):
        raise JwtGrantError("consent_required")
    return JwtGrant(user=user, integration_key=integration_key, scopes=scope_string(requested))


def _signed_by_registered_key(assertion: str, integration_key: IntegrationKey) -> bool:
    for key in integration_key.rsa_keys.all():
        try:
            jwt.decode(assertion, key.public_pem, algorithms=["RS256"], options=_SIGNATURE_ONLY)
        except jwt.PyJWTError:
            continue
        return True
    return False


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _active_user(subject: object) -> User | None:
    """The active user whose GUID is `subject`; an email or any non-GUID finds nobody (docs/docusign.md §2.1)."""
    if not isinstance(subject, str):
        return None
    try:
        user_id = str(uuid.UUID(subject))
    except ValueError:
        return None
    return User.objects.filter(user_id__iexact=user_id, is_active=True).first()
