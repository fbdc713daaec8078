"""Named write operations on DocuSign connections (Authorization Code grant tokens) and their lifecycle.

- `credential_store`: after "Connect to DocuSign", keep the token pair encrypted, one row per organization and user.
- `get_valid_access_token`: the access token, refreshed 5 minutes before expiry; one refresh at a time across
  processes (row lock, re-read after acquiring it), always keeping the newest refresh token (docs/security.md TS-3, TS-4).
- `invalid_grant` on refresh marks the connection "needs reconnecting" and stops all further attempts.
- `credential_disconnect`: deletes the row and the social-auth association (docs/security.md TS-6).
- `credential_discard_lost_key`: the encryption key under the tokens is lost; "needs reconnecting", tokens dropped.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime, timedelta
from uuid import UUID

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from social_django.models import UserSocialAuth

from docusign_integration.client.errors import DocuSignError, InvalidGrant
from docusign_integration.oauth import account_server as oauth
from docusign_integration.oauth.account_server import TokenResponse, UserInfo
from docusign_integration.oauth.models.credentials import REFRESH_TOKEN_LIFETIME, CredentialStatus, DocuSignCredential
from outbound_events import outbox
from tenants import audit
from tenants.models import ClientOrganization

logger = logging.getLogger(__name__)

SOCIAL_PROVIDER = "docusign"
# The beat task refreshes connections whose refresh token expires within this window, so an admin who has not
# used the portal for weeks still has a working connection.
REFRESH_WINDOW = timedelta(days=10)


class ReconnectRequired(DocuSignError):
    """The connection can no longer be refreshed; only the user connecting again can fix it."""

    default_message = "The DocuSign connection has expired or was revoked: connect to DocuSign again."


def _refresh_expiry(scopes: str, previous: datetime, now: datetime) -> datetime:
    # With `extended`, each refresh restarts the refresh token's 30 days; without it the original expiry stays.
    return now + REFRESH_TOKEN_LIFETIME if "extended" in scopes.split() else previous


def credential_store(*, acting_user: User, organization: ClientOrganization, tokens: TokenResponse,
                     userinfo: UserInfo, environment: str) -> DocuSignCredential:
    """Create or replace `acting_user`'s connection for `organization` with a freshly exchanged token pair."""
    if not tokens.refresh_token:
        raise ReconnectRequired("DocuSign did not return a refresh token: connect to DocuSign again.")
    now = timezone.now()
    with transaction.atomic():
        credential = (DocuSignCredential.objects.select_for_update()
                      .filter(organization=organization, user=acting_user).first())
        before = None
        if credential is None:
            credential = DocuSignCredential(organization=organization, user=acting_user)
        else:
            before = audit.snapshot(credential, ("docusign_user_id", "status", "scopes"))
        credential.environment = environment
        credential.docusign_user_id = userinfo.sub
        credential.docusign_email = userinfo.email
        credential.scopes = tokens.scope or " ".join(("signature", "extended"))
        credential.accounts = [asdict(account) for account in userinfo.accounts]
        credential.status = CredentialStatus.OK
        credential.last_error = ""
        credential.refresh_expires_at = now + REFRESH_TOKEN_LIFETIME
        credential.refreshed_at = None
        credential.set_tokens(access_token=tokens.access_token, refresh_token=tokens.refresh_token,
                              expires_at=now + timedelta(seconds=tokens.expires_in))
        credential.save()
        audit.record(actor=acting_user, action="docusign.connect", organization=organization, target=credential,
                     before=before, after=audit.snapshot(credential, ("docusign_user_id", "status", "scopes")))
    return credential


def get_valid_access_token(credential: DocuSignCredential, *, now: datetime | None = None) -> str:
    """A usable access token for `credential`, refreshing it first when it expires within 5 minutes.

    Raises ReconnectRequired when the connection needs the user (revoked, expired, refused refresh), and the
    DocuSign error classes for transient failures (the stored tokens are then unchanged).
    """
    now = now or timezone.now()
    if credential.status != CredentialStatus.OK:
        raise ReconnectRequired(credential.last_error or None)
    if not credential.needs_refresh(now):
        return credential.get_access_token()

    refused: InvalidGrant | None = None
    with transaction.atomic():
        # Single flight: whoever holds the row lock refreshes; the others wait here, then see the new token.
        locked = DocuSignCredential.objects.select_for_update().get(pk=credential.pk)
        if locked.status == CredentialStatus.OK and locked.needs_refresh(now):
            try:
                tokens = oauth.refresh(locked.environment, locked.get_refresh_token())
            except InvalidGrant as exc:
                refused = exc
                _mark_needs_reconnect(locked, exc)
            else:
                _apply_refresh(locked, tokens, now)
    _copy_state(locked, into=credential)
    if refused is not None or locked.status != CredentialStatus.OK:
        raise ReconnectRequired(locked.last_error or None) from refused
    return locked.get_access_token()


def credential_refresh(credential_id: str) -> DocuSignCredential | None:
    """Refresh one connection now (the beat task's unit of work); None when it no longer exists or is not OK."""
    credential = DocuSignCredential.objects.filter(pk=credential_id, status=CredentialStatus.OK).first()
    if credential is None:
        return None
    # Forcing "now" to the access token's expiry makes get_valid_access_token refresh under the same lock rules.
    get_valid_access_token(credential, now=max(timezone.now(), credential.expires_at))
    return credential


def credentials_due_for_refresh(now: datetime | None = None) -> QuerySet[DocuSignCredential, UUID]:
    """Connections whose refresh token expires within REFRESH_WINDOW (ids only, for the fan-out)."""
    now = now or timezone.now()
    return (DocuSignCredential.objects.filter(status=CredentialStatus.OK, refresh_expires_at__lte=now + REFRESH_WINDOW)
            .values_list("pk", flat=True))


def fetch_userinfo(credential: DocuSignCredential) -> UserInfo:
    """Userinfo for the connection: the accounts the user can reach now. A read: it records nothing (see
    `credential_accounts_update`); only an access token due for refresh is refreshed, as for any call."""
    return oauth.userinfo(credential.environment, get_valid_access_token(credential))


def credential_accounts_update(*, acting_user: User | None, credential: DocuSignCredential, userinfo: UserInfo) -> bool:
    """Keep the accounts `userinfo` lists on the connection, for the account choice page; True when they changed.

    `userinfo` must be the connection's own DocuSign user's (ValueError otherwise, nothing changed).
    """
    if userinfo.sub.lower() != credential.docusign_user_id.lower():
        raise ValueError("This userinfo is another DocuSign user's than the connection's.")
    accounts = [asdict(account) for account in userinfo.accounts]
    with transaction.atomic():
        locked = DocuSignCredential.objects.select_for_update().get(pk=credential.pk)
        if accounts == locked.accounts:
            return False
        before = [account["account_id"] for account in locked.accounts]
        DocuSignCredential.objects.filter(pk=locked.pk).update(accounts=accounts, updated=timezone.now())
        audit.record(actor=acting_user, action="docusign_credential.accounts", organization=locked.organization,
                     target=locked, before={"accounts": before},
                     after={"accounts": [account["account_id"] for account in accounts]})
    credential.accounts = accounts
    return True


def credential_disconnect(*, acting_user: User | None, credential: DocuSignCredential) -> None:
    """Delete the connection and its social-auth association: the tokens are gone, not just flagged."""
    with transaction.atomic():
        organization = credential.organization
        before = audit.snapshot(credential, ("docusign_user_id", "status", "scopes"))
        UserSocialAuth.objects.filter(user=credential.user, provider=SOCIAL_PROVIDER, uid=credential.docusign_user_id).delete()
        DocuSignCredential.objects.filter(pk=credential.pk).delete()
        audit.record(actor=acting_user, action="docusign.disconnect", organization=organization, target=credential,
                     before=before)


# Shown to the client admin on the checklist; says what to do, not how the portal lost the key.
LOST_KEY_MESSAGE = "The portal can no longer use your stored DocuSign connection: connect to DocuSign again."


def credential_discard_lost_key(*, acting_user: User | None, credential: DocuSignCredential,
                                key_id: str) -> None:
    """The encryption key `key_id` under this connection's tokens is lost: drop them and ask its admin to reconnect.

    The row stays, marked "needs reconnecting" like a refused refresh, so the client admin's checklist says to connect
    again (and staff see it on the health page); the unreadable ciphertexts are emptied so no row records the lost key.
    """
    with transaction.atomic():
        before = audit.snapshot(credential, ("status", "last_error"))
        credential.access_token_ciphertext = ""
        credential.refresh_token_ciphertext = ""
        credential.status = CredentialStatus.NEEDS_RECONNECT
        credential.last_error = LOST_KEY_MESSAGE
        credential.save(update_fields=["access_token_ciphertext", "refresh_token_ciphertext", "status", "last_error",
                                       "updated"])
        audit.record(actor=acting_user, action="docusign_credential.discarded_lost_key",
                     organization=credential.organization, target=credential, before=before,
                     after={**audit.snapshot(credential, ("status", "last_error")), "encryption_key_id": key_id})


@sensitive_variables("refresh_token")
def _apply_refresh(credential: DocuSignCredential, tokens: TokenResponse, now: datetime) -> None:
    # DocuSign always returns a refresh token here; without one the old one is kept only because nothing newer exists.
    refresh_token = tokens.refresh_token or credential.get_refresh_token()
    credential.set_tokens(access_token=tokens.access_token, refresh_token=refresh_token,
                          expires_at=now + timedelta(seconds=tokens.expires_in))
    credential.scopes = tokens.scope or credential.scopes
    credential.refresh_expires_at = _refresh_expiry(credential.scopes, credential.refresh_expires_at, now)
    credential.refreshed_at = now
    credential.save()


def _mark_needs_reconnect(credential: DocuSignCredential, error: InvalidGrant) -> None:
    credential.status = CredentialStatus.NEEDS_RECONNECT
    credential.last_error = ReconnectRequired.default_message
    credential.save(update_fields=["status", "last_error", "updated"])
    logger.warning("docusign_refresh_refused credential=%s error_code=%s", credential.pk, error.error_code)
    audit.record(actor=None, action="docusign.needs_reconnect", organization=credential.organization,
                 target=credential, after={"status": credential.status, "error_code": error.error_code})
    outbox.record("connection.needs_reconnect", organization=credential.organization, data={"connection": str(credential.pk)})


def _copy_state(source: DocuSignCredential, *, into: DocuSignCredential) -> None:
    for field in ("access_token_ciphertext", "refresh_token_ciphertext", "expires_at", "refresh_expires_at",
                  "scopes", "status", "last_error", "refreshed_at"):
        setattr(into, field, getattr(source, field))
