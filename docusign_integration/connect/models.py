"""Connect HMAC keys (docs/docusign.md §7.4), the secrets that prove a Connect message came from DocuSign; Connect messages.

A *partner* key belongs to the ISV's own DocuSign account and signs every client's messages when the client's
Connect configuration is `integratorManaged`; an *account* key belongs to one client organization's account and
verifies only that account's messages (docs/security.md WH-3). The secret is encrypted at rest, bound to this
row, and is never shown again after it is entered: the admin lists only its last 4 characters.

A `ConnectEvent` is one Connect message (JSON SIM, docs/docusign.md §7.3) as received: stored before it is processed
so an acknowledged message is never lost, and unique on DocuSign's identity of the event so a redelivery (any
`retryCount`) is recognised (docs/security.md WH-4).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

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


class ConnectEventState(models.TextChoices):
    RECEIVED = "received", "Received, not yet processed"
    APPLIED = "applied", "Applied"
    IGNORED = "ignored", "Ignored"
    QUARANTINED = "quarantined", "Quarantined"


class ConnectEvent(models.Model):
    """One Connect message as received, with what processing made of it."""

    environment = models.CharField(max_length=20, choices=ENVIRONMENT_CHOICES)
    account_id = models.CharField("DocuSign account id", max_length=36)
    envelope_id = models.CharField("DocuSign envelope id", max_length=36)
    event = models.CharField(max_length=60, help_text="The JSON SIM event name, such as envelope-completed.")
    # Null only for a quarantined message without a usable generatedDateTime (such rows are never deduplicated).
    generated_at = models.DateTimeField(null=True, blank=True)
    recipient_id = models.CharField(max_length=100, blank=True, default="")
    # Null when no client organization has this account: such messages are quarantined and never applied.
    organization = models.ForeignKey("tenants.ClientOrganization", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="connect_events")
    body = models.BinaryField(help_text="The raw bytes as delivered (at most DOCUSIGN_CONNECT_MAX_BODY).")
    state = models.CharField(max_length=20, choices=ConnectEventState.choices, default=ConnectEventState.RECEIVED)
    reason = models.CharField(max_length=500, blank=True)
    retry_count = models.PositiveIntegerField(default=0, help_text="DocuSign's retryCount of the last delivery seen.")
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="How many times processing ran.")

    class Meta:
        constraints = [
            # DocuSign's identity of a message; retryCount and the body are deliberately not part of it (docs/security.md WH-4).
            models.UniqueConstraint(fields=["account_id", "envelope_id", "event", "generated_at", "recipient_id"],
                                    name="docusign_connect_event_once"),
        ]
        indexes = [
            models.Index(fields=["state", "received_at"], name="docusign_connect_event_due"),
            models.Index(fields=["organization", "envelope_id"], name="docusign_connect_event_env"),
            # The staff dashboard's deliveries-per-hour chart: the last 24 hours, however long the history kept.
            models.Index(fields=["received_at"], name="docusign_connect_event_recv"),
            # An organization's health: its last delivery and its counts over the last 24 hours.
            models.Index(fields=["organization", "-received_at"], name="docusign_connect_org_received"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.envelope_id} ({self.state})"
