"""Envelopes the portal tracks, and their embedded signers.

An `Envelope` row changes only through `envelope_status.envelope_status_apply`, whichever way the news came
(the portal's own send, a Connect message, or polling).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from docusign_integration.client.conf import ENVIRONMENT_CHOICES
from tenants.models import guid_validator


class EnvelopeStatus(models.TextChoices):
    """DocuSign's envelope statuses the portal tracks (docs/docusign.md §6), in the order they are reached."""

    CREATED = "created", "Draft"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    SIGNED = "signed", "Signed"
    COMPLETED = "completed", "Completed"
    DECLINED = "declined", "Declined"
    VOIDED = "voided", "Voided"


class CreatedVia(models.TextChoices):
    PORTAL = "portal", "Sent from the portal"
    CONNECT = "connect", "Learned from Connect"
    POLL = "poll", "Learned by polling"


class Envelope(models.Model):
    """One DocuSign envelope of a client organization, as far as the portal knows it."""

    organization = models.ForeignKey("tenants.ClientOrganization", on_delete=models.CASCADE, related_name="envelopes")
    envelope_id = models.CharField("DocuSign envelope id", max_length=36, validators=[guid_validator])
    environment = models.CharField(max_length=20, choices=ENVIRONMENT_CHOICES)
    subject = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=EnvelopeStatus.choices, default=EnvelopeStatus.CREATED)
    status_changed_at = models.DateTimeField(null=True, blank=True, help_text="DocuSign's time of the last applied change.")
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_reason = models.CharField(max_length=200, blank=True)
    sender_email = models.EmailField(blank=True)
    # [{recipient_id, name, email, status, client_user_id}], merged per recipient, never moving a status back.
    recipients = models.JSONField(default=list, blank=True)
    created_via = models.CharField(max_length=20, choices=CreatedVia.choices)
    last_event_at = models.DateTimeField(null=True, blank=True, help_text="When the portal last heard about it.")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "envelope_id"], name="docusign_one_envelope_per_org"),
        ]
        indexes = [models.Index(fields=["organization", "status"], name="docusign_envelope_org_status")]

    def __str__(self) -> str:
        return f"Envelope {self.envelope_id} ({self.status})"


class SignerIdentityKind(models.TextChoices):
    PORTAL_USER = "portal_user", "Portal user"
    END_USER = "end_user", "End user of the ISV's product"


class EmbeddedSigner(models.Model):
    """Who an embedded signer (a recipient with a clientUserId) of an envelope created by the portal is.

    Written once, by `sending.envelope_create_draft`, in the transaction that records the envelope; never from what
    DocuSign reports (Connect, polling), so no message can bind, rebind or unbind a signer. An envelope's signer with
    no row here (created before this record existed, or outside the portal) cannot be signed through the portal.
    """

    envelope = models.ForeignKey(Envelope, on_delete=models.CASCADE, related_name="embedded_signers")
    recipient_id = models.CharField("DocuSign recipient id", max_length=100)
    client_user_id = models.CharField("DocuSign clientUserId", max_length=100,
                                      help_text="The portal's random handle for the signer, as sent to DocuSign.")
    identity_kind = models.CharField(max_length=20, choices=SignerIdentityKind.choices)
    # Null for an end user, or once the portal user is deleted: then nobody can sign as this signer.
    portal_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    end_user_id = models.CharField(max_length=200, blank=True, help_text="The ISV's own opaque id of its end user.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["envelope", "recipient_id"], name="docusign_embedded_signer_once"),
            models.UniqueConstraint(fields=["envelope", "client_user_id"], name="docusign_embedded_client_user_once"),
            models.CheckConstraint(
                condition=(models.Q(identity_kind=SignerIdentityKind.PORTAL_USER, end_user_id="")
                           | (models.Q(identity_kind=SignerIdentityKind.END_USER, portal_user__isnull=True)
                              & ~models.Q(end_user_id=""))),
                name="docusign_embedded_signer_identity"),
        ]

    def __str__(self) -> str:
        return f"Embedded signer {self.recipient_id} of {self.envelope_id} ({self.get_identity_kind_display()})"

