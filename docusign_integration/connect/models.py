"""Connect HMAC keys (docs/docusign.md §7.4): the secrets that prove a Connect message came from DocuSign.

A *partner* key belongs to the ISV's own DocuSign account and signs every client's messages when the client's
Connect configuration is `integratorManaged`; an *account* key belongs to one client organization's account and
verifies only that account's messages (docs/security.md WH-3). The secret is encrypted at rest, bound to this
row, and is never shown again after it is entered: the admin lists only its last 4 characters.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from docusign_integration.client.conf import ENVIRONMENT_CHOICES
from docusign_integration.keys import encryption


class HMACKeyScope(models.TextChoices):
    PARTNER = "partner", "Partner (integratorManaged, all clients)"
    ACCOUNT = "account", "One client's account"


class ConnectHMACKey(models.Model):
    """One Connect HMAC secret; retiring a key keeps the row (for the record) but stops it verifying anything."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # part of the AAD
    environment = models.CharField(max_length=20, choices=ENVIRONMENT_CHOICES,
                                   help_text="Demo and production keys are separate (protocol §7.4).")
    scope = models.CharField(max_length=20, choices=HMACKeyScope.choices)
    organization = models.ForeignKey("tenants.ClientOrganization", null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="connect_hmac_keys", help_text="Only for an account key.")
    label = models.CharField(max_length=100)
    key_id = models.CharField("DocuSign key id", max_length=36, blank=True,
                              help_text="The id DocuSign shows on the Connect Keys tab, to tell keys apart when rotating.")
    secret_ciphertext = models.TextField(editable=False)
    active = models.BooleanField(default=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Connect HMAC key"
        constraints = [
            models.CheckConstraint(
                condition=(Q(scope=HMACKeyScope.PARTNER, organization__isnull=True)
                           | Q(scope=HMACKeyScope.ACCOUNT, organization__isnull=False)),
                name="docusign_hmac_key_scope_matches_organization",
                violation_error_message="A partner key has no organization; an account key needs one.",
            ),
        ]
        indexes = [models.Index(fields=["environment", "scope", "active"], name="docusign_hmac_key_lookup")]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_scope_display()}, {'active' if self.active else 'retired'})"

    def get_secret(self) -> str:
        return encryption.decrypt(self.secret_ciphertext, context=encryption.model_context(self, "secret_ciphertext"))

    def set_secret(self, secret: str) -> None:
        self.secret_ciphertext = encryption.encrypt(secret, context=encryption.model_context(self, "secret_ciphertext"))


def _discard_lost_key(rows: models.QuerySet, key_id: str) -> int:
    """Retire each key and empty its secret: staff add it again from DocuSign (`connect_hmac_key add`)."""
    from docusign_integration.connect.hmac import connect_hmac_key_discard_lost_key  # the services module imports this one

    discarded = list(rows.select_related("organization"))
    for key in discarded:
        connect_hmac_key_discard_lost_key(acting_user=None, key=key, key_id=key_id)
    return len(discarded)


encryption.register(ConnectHMACKey, ["secret_ciphertext"], discard=_discard_lost_key)
