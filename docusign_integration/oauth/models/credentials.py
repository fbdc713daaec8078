"""A client admin's own DocuSign connection ("Connect to DocuSign"): refresh and access tokens, encrypted at rest.

The tokens come from the Authorization Code grant (docs/docusign.md §4) and are moved here out of social-auth's
`extra_data`, which never holds a token. Each ciphertext is bound to this row and column (encryption.model_context),
so a value copied to another credential or field fails to decrypt (docs/security.md TS-1).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from docusign_integration.client.conf import ENVIRONMENT_CHOICES
from docusign_integration.keys import encryption

# Refresh this long before the access token expires, so it never expires in the middle of a call.
REFRESH_BEFORE = timedelta(minutes=5)
# DocuSign's refresh tokens live about 30 days; with `extended`, each refresh restarts that (docs/docusign.md §4).
REFRESH_TOKEN_LIFETIME = timedelta(days=30)


class CredentialStatus(models.TextChoices):
    OK = "ok", "Connected"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnecting"


class DocuSignCredential(models.Model):
    """One portal user's DocuSign connection for one client organization (unique per organization and user)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # part of the AAD
    organization = models.ForeignKey("tenants.ClientOrganization", on_delete=models.CASCADE, related_name="docusign_credentials")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="docusign_credentials")
    environment = models.CharField(max_length=20, choices=ENVIRONMENT_CHOICES)
    docusign_user_id = models.CharField("DocuSign user id", max_length=36)
    docusign_email = models.EmailField("DocuSign email", blank=True)
    access_token_ciphertext = models.TextField(editable=False)
    refresh_token_ciphertext = models.TextField(editable=False)
    expires_at = models.DateTimeField(help_text="When the access token expires.")
    refresh_expires_at = models.DateTimeField(help_text="When the refresh token expires (30 days, sliding with `extended`).")
    scopes = models.CharField(max_length=200)
    # Userinfo's accounts at the last connect or check: account_id, account_name, base_uri, is_default. No secrets.
    accounts = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=CredentialStatus.choices, default=CredentialStatus.OK)
    last_error = models.CharField(max_length=500, blank=True, help_text="What went wrong last, in words a person can act on.")
    refreshed_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "DocuSign connection"
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="docusign_one_credential_per_org_user"),
        ]
        indexes = [models.Index(fields=["status", "refresh_expires_at"], name="docusign_cred_refresh_due")]

    def __str__(self) -> str:
        return f"DocuSign connection of {self.user} for {self.organization}"

    def needs_refresh(self, now: datetime | None = None) -> bool:
        """True when the access token expires within REFRESH_BEFORE (or already has)."""
        return (now or timezone.now()) >= self.expires_at - REFRESH_BEFORE

    def get_access_token(self) -> str:
        return self._decrypt("access_token_ciphertext")

    def get_refresh_token(self) -> str:
        return self._decrypt("refresh_token_ciphertext")

    def set_tokens(self, *, access_token: str, refresh_token: str, expires_at: datetime) -> None:
        """Store a token pair (always the newest refresh token: DocuSign may invalidate the previous one)."""
        self.access_token_ciphertext = self._encrypt("access_token_ciphertext", access_token)
        self.refresh_token_ciphertext = self._encrypt("refresh_token_ciphertext", refresh_token)
        self.expires_at = expires_at

    def _encrypt(self, field: str, value: str) -> str:
        return encryption.encrypt(value, context=encryption.model_context(self, field))

    def _decrypt(self, field: str) -> str:
        return encryption.decrypt(getattr(self, field), context=encryption.model_context(self, field))


def _discard_lost_key(rows: models.QuerySet, key_id: str) -> int:
    """Mark each client admin's connection "needs reconnecting" and drop its tokens: they connect to DocuSign again."""
    from docusign_integration.oauth.credentials import credential_discard_lost_key  # the services module imports this one

    discarded = list(rows.select_related("organization", "user"))
    for credential in discarded:
        credential_discard_lost_key(acting_user=None, credential=credential, key_id=key_id)
    return len(discarded)


encryption.register(DocuSignCredential, ["access_token_ciphertext", "refresh_token_ciphertext"],
                    discard=_discard_lost_key)
