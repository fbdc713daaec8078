"""Webhook endpoints of client organizations, the outbox of events, and each endpoint's deliveries with their log.

An `OutboundEvent` is written by `outbox.record` in the transaction of the state change that causes it, with one
`Delivery` per subscribed endpoint, so a crash neither loses nor invents an event. A delivery's `envelope_id` and
`sequence` are copied from its event: they order an endpoint's deliveries per envelope (the stream key is the
envelope id, or "" for an organization's events that concern no envelope).
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from django.db import models
from django.db.models import Q
from django.utils import timezone

# The event types the ISV's product can subscribe to (issue 17), in the order a reader meets them.
EVENT_TYPES = (
    "envelope.sent", "envelope.delivered", "envelope.completed", "envelope.declined", "envelope.voided",
    "recipient.completed", "documents.ready", "consent.changed", "connection.needs_reconnect", "setup.drifted",
)


# Endpoints that stopped taking events: failing since their last success, or disabled (by staff or automatically).
# /metrics counts them at every scrape through the partial index below, which holds only these few rows.
FAILING_OR_DISABLED = Q(failing_since__isnull=False) | Q(enabled=False)


class WebhookEndpoint(models.Model):
    """Where one client organization's events go: an https URL on a public host, signed with the endpoint's secret."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # part of the secrets' AAD
    organization = models.ForeignKey("tenants.ClientOrganization", on_delete=models.CASCADE,
                                     related_name="webhook_endpoints")
    url = models.URLField("URL", max_length=500,
                          help_text="https on a public host; the portal refuses private, loopback and metadata addresses.")
    event_types = models.JSONField(default=list, blank=True, help_text="Event types to send; empty: all of them.")
    enabled = models.BooleanField(default=True)
    secret_ciphertext = models.TextField(editable=False)
    # During a rotation the previous secret signs too (its signature is a second one in webhook-signature).
    previous_secret_ciphertext = models.TextField(blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    max_in_flight = models.PositiveSmallIntegerField(default=4, help_text="Deliveries in flight to this endpoint at most.")
    failing_since = models.DateTimeField(null=True, blank=True, editable=False,
                                         help_text="First failed attempt since the last success; cleared by a success.")
    flagged_at = models.DateTimeField(null=True, blank=True, help_text="When an event was last given up on (failed).")
    disabled_reason = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "webhook endpoint"
        indexes = [models.Index(fields=["organization", "enabled"], name="outbound_endpoint_org"),
                   models.Index(fields=["enabled"], condition=FAILING_OR_DISABLED, name="outbound_endpoint_failing")]

    def __str__(self) -> str:
        return f"{self.display_url} ({'enabled' if self.enabled else 'disabled'})"

    @property
    def display_url(self) -> str:
        """The URL as logs, alerts and the audit show it: without its query, which may carry the ISV's token."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class EventStream(models.Model):
    """The last sequence number given to an envelope's events (envelope_id "" for the organization's other events)."""

    organization = models.ForeignKey("tenants.ClientOrganization", on_delete=models.CASCADE, related_name="+")
    envelope_id = models.CharField(max_length=36, blank=True)
    last_sequence = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "envelope_id"], name="outbound_one_stream")]

    def __str__(self) -> str:
        return f"Stream {self.envelope_id or '(organization)'} at #{self.last_sequence}"


class OutboundEvent(models.Model):
    """One event, as the ISV's product receives it; its id is the `webhook-id` of every delivery and replay."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenants.ClientOrganization", on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=40)
    envelope_id = models.CharField(max_length=36, blank=True)
    sequence = models.PositiveIntegerField(help_text="Per envelope (or per organization for events without one).")
    data = models.JSONField(default=dict)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True, help_text="When the state change committed.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "envelope_id", "sequence"], name="outbound_event_seq")]
        indexes = [models.Index(fields=["organization", "-occurred_at"], name="outbound_event_org")]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.sequence} {self.envelope_id}".strip()

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.id.hex}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERING = "delivering", "Delivering"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (given up)"


UNFINISHED = (DeliveryState.PENDING, DeliveryState.DELIVERING)


class Delivery(models.Model):
    """One event to one endpoint: retried with backoff until delivered or given up."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(OutboundEvent, on_delete=models.CASCADE, related_name="deliveries")
    envelope_id = models.CharField(max_length=36, blank=True)
    sequence = models.PositiveIntegerField()
    state = models.CharField(max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True,
                                       help_text="A delivering row whose lease ran out was a dead worker's.")
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="outbound_delivery_once")]
        indexes = [
            models.Index(fields=["endpoint", "envelope_id", "sequence"], name="outbound_delivery_stream"),
            models.Index(fields=["state", "next_attempt_at"], name="outbound_delivery_due"),
            models.Index(fields=["endpoint", "state"], name="outbound_delivery_endpoint"),
        ]

    def __str__(self) -> str:
        return f"Delivery {self.pk} ({self.state})"


class DeliveryAttempt(models.Model):
    """One HTTP attempt, as the log shows it: never a header or a secret, only the start of the response body."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=200, blank=True, help_text="Why the attempt failed, when no answer came.")
    response_start = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["delivery", "-attempted_at"], name="outbound_attempt_delivery")]

    def __str__(self) -> str:
        return f"Attempt {self.status_code or self.error}"
