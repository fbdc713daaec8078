"""Issuing and checking the sandbox's bearer tokens, codes and one-time view tokens.

Only SHA-256 hashes are stored, so a database dump never holds a usable token.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.http import HttpRequest

from . import clock
from .models import AccessToken, IntegrationKey, User

JWT_TOKEN_LIFETIME = 3600  # docs/docusign.md §2.2
CODE_GRANT_TOKEN_LIFETIME = 28800  # docs/docusign.md §4


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(prefix: str = "") -> str:
    # DocuSign's tokens are long opaque strings; a prefix makes sandbox tokens recognisable in its logs.
    return prefix + secrets.token_urlsafe(48)


def issue_access_token(user: User, integration_key: IntegrationKey, scopes: str, source: str,
                       lifetime: int) -> str:
    token = new_token("sbx.at.")
    AccessToken.objects.create(
        token_hash=hash_token(token), integration_key=integration_key, user=user, scopes=scopes,
        source=source, expires_at=clock.now() + timedelta(seconds=lifetime),
    )
    return token


def bearer_token(request: HttpRequest) -> AccessToken | None:
    """The live access token named by `Authorization: Bearer ...`, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    token = (AccessToken.objects.select_related("user", "integration_key")
             .filter(token_hash=hash_token(value.strip())).first())
    if token is None or token.expires_at <= clock.now() or not token.user.is_active:
        return None
    return token
