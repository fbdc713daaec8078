"""Server-side OAuth `state` records (docs/security.md OA-1, OA-2, OA-5)."""

from __future__ import annotations

import uuid

from django.db import models

from docusign_integration.client.conf import ENVIRONMENT_CHOICES
from docusign_integration.keys import encryption


class OAuthState(models.Model):
    """One authorization request in flight: single-use, bound to a session and a user, short-lived.

    Only the sha256 of the state value and of the session key are stored; the PKCE verifier is encrypted.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # part of the AAD
    state_hash = models.CharField(max_length=64, unique=True)
    flow = models.CharField(max_length=40)
    environment = models.CharField(max_length=20, choices=ENVIRONMENT_CHOICES)
    organization_id = models.BigIntegerField(null=True, blank=True)
    session_key_hash = models.CharField(max_length=64)
    user_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    code_verifier_ciphertext = models.TextField(blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"OAuth state for {self.flow} ({self.environment})"


def _discard_lost_key(rows: models.QuerySet, key_id: str) -> int:
    """Delete these sign-ins to DocuSign in progress: whoever started one starts it again."""
    return rows.delete()[0]


encryption.register(OAuthState, ["code_verifier_ciphertext"], discard=_discard_lost_key)
