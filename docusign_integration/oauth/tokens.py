"""Impersonation tokens for system users: one JWT grant per user per hour, shared by every process (docs/security.md TS-3, TS-5).

The fast path reads the cached row without a lock. When the token is missing or within RENEW_BEFORE of
expiry, the caller takes the row's lock (`select_for_update`), re-reads it, and only then asks DocuSign:
concurrent callers wait on the lock and find the token the first one stored, so a cold cache costs one grant.
The lock is held for at most the token request's timeout (settings.DOCUSIGN_HTTP_TIMEOUT, up to 3 tries).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from docusign_integration.client.ids import require_guid
from docusign_integration.oauth import account_server as oauth
from docusign_integration.oauth.jwt_assertion import DEFAULT_SCOPES
from docusign_integration.oauth.models.tokens import CachedAccessToken


def _normalized(scopes: str) -> str:
    return " ".join(sorted(set(scopes.split())))


def get_impersonation_token(environment: str, user_id: str, scopes: str = DEFAULT_SCOPES) -> str:
    """A live access token impersonating `user_id`; ConsentRequired / InvalidGrant propagate (nothing cached)."""
    require_guid(user_id, "DocuSign user id")
    key = {"environment": environment, "user_id": user_id.lower(), "scopes": _normalized(scopes)}
    cached = CachedAccessToken.objects.filter(**key).first()
    if cached is not None and cached.is_fresh():
        return cached.get_access_token()
    if not connection.features.has_select_for_update:
        # SQLite (development only): a transaction locks the whole database file, and the sandbox sharing that
        # file must write while we wait for its answer. So grant without holding a transaction: no cross-process
        # single flight here; PostgreSQL (CI, production) takes the locked path below.
        row, _ = CachedAccessToken.objects.get_or_create(defaults=None, **key)
        return _grant_and_store(row, environment, user_id, scopes)
    with transaction.atomic():
        # get_or_create handles the insert race (IntegrityError -> get); the lock then serializes the grant.
        CachedAccessToken.objects.get_or_create(defaults=None, **key)
        row = CachedAccessToken.objects.select_for_update().get(**key)
        if row.is_fresh():  # another process granted while we waited for the lock
            return row.get_access_token()
        return _grant_and_store(row, environment, user_id, scopes)


def _grant_and_store(row: CachedAccessToken, environment: str, user_id: str, scopes: str) -> str:
    granted = oauth.jwt_grant(environment, user_id, scopes)
    row.set_access_token(granted.access_token, timezone.now() + timedelta(seconds=granted.expires_in))
    row.save(update_fields=["access_token_ciphertext", "expires_at", "updated_at"])
    return granted.access_token


def forget_impersonation_token(environment: str, user_id: str) -> int:
    """Delete every cached token of `user_id` (revocation, offboarding); returns how many were deleted."""
    deleted, _ = CachedAccessToken.objects.filter(environment=environment, user_id=user_id.lower()).delete()
    return deleted
