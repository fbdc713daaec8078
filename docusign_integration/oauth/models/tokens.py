"""Cached JWT-grant access tokens, encrypted at rest (docs/security.md TS-1, TS-5)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

from docusign_integration.client.conf import ENVIRONMENT_CHOICES
from docusign_integration.keys import encryption

# Renew this long before expiry so a token never expires in the middle of a call or a task.
RENEW_BEFORE = timedelta(minutes=5)


class CachedAccessToken(models.Model):
    """One impersonation token per (environment, DocuSign user, scopes); the row is also the single-flight lock."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # part of the AAD
    environment = models.CharField(max_length=20, choices=ENVIRONMENT_CHOICES)
    user_id = models.CharField(max_length=36)
    scopes = models.CharField(max_length=300)
    access_token_ciphertext = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["environment", "user_id", "scopes"], name="uniq_cached_token_user_scopes"),
        ]

    def __str__(self) -> str:
        return f"Access token for {self.user_id} ({self.environment}, {self.scopes})"

    def is_fresh(self, now: datetime | None = None) -> bool:
        """True while the token can still be used for RENEW_BEFORE or longer."""
        now = now or timezone.now()
        return bool(self.access_token_ciphertext) and self.expires_at is not None and now < self.expires_at - RENEW_BEFORE

    def get_access_token(self) -> str:
        return encryption.decrypt(self.access_token_ciphertext, context=self._context())

    def set_access_token(self, token: str, expires_at: datetime) -> None:
        self.access_token_ciphertext = encryption.encrypt(token, context=self._context())
        self.expires_at = expires_at

    def _context(self) -> str:
        return encryption.model_context(self, "access_token_ciphertext")


def _discard_lost_key(rows: models.QuerySet, key_id: str) -> int:
    """Delete the cached access tokens: the next call asks DocuSign for new ones (JWT grant)."""
    return rows.delete()[0]


encryption.register(CachedAccessToken, ["access_token_ciphertext"], discard=_discard_lost_key)
