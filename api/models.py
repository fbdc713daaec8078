"""The ISV API's records: keys per client organization, its settings per organization, idempotent POSTs, envelope
metadata, the templates cache with the ISV's allow-list, and usage per key and hour.

API keys are djangorestframework-api-key's (hashed with Django's password hasher, prefixed, named, expiring,
revocable); the key itself is shown once, when made, and only its prefix is ever stored in clear or audited.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from rest_framework.utils.encoders import JSONEncoder
from rest_framework_api_key.models import AbstractAPIKey

from docusign_integration.client.conf import parse_origin

IDEMPOTENCY_KEY_MAX = 255


class OrganizationAPIKey(AbstractAPIKey):
    """An API key of one client organization: every request made with it sees that organization only."""

    organization = models.ForeignKey("tenants.ClientOrganization", on_delete=models.CASCADE, related_name="api_keys")

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"


def validate_origins(value: object) -> None:
    """A list of bare origins (scheme://host[:port]), each parsed strictly as the DocuSign hosts are."""
    if not isinstance(value, list) or len(value) > 20:
        raise ValidationError("Give a list of at most 20 origins.")
    for origin in value:
        parsed = parse_origin(origin)
        if parsed is None or str(parsed) != str(origin).lower().rstrip("/"):
            raise ValidationError(f"{origin!r} is not an origin such as https://app.example.com (no path, no query).")


class OrganizationApiSettings(models.Model):
    """Where the ISV's product may send an organization's signers back to, and frame DocuSign's focused view."""

    organization = models.OneToOneField("tenants.ClientOrganization", on_delete=models.CASCADE,
                                        related_name="api_settings")
    allowed_origins = models.JSONField(default=list, blank=True, validators=[validate_origins],
                                       help_text="Origins a signing or sending view may return to, "
                                                 'e.g. ["https://app.example.com"].')
    frame_ancestors = models.JSONField(default=list, blank=True, validators=[validate_origins],
                                       help_text="Origins whose pages may frame the focused signing view.")

    class Meta:
        verbose_name = "API settings"
        verbose_name_plural = "API settings"

    def __str__(self) -> str:
        return f"API settings of {self.organization}"


class IdempotentRequest(models.Model):
    """A POST made with an Idempotency-Key: claimed (unique per organization) before any work, answer kept 24 hours."""

    organization = models.ForeignKey("tenants.ClientOrganization", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=IDEMPOTENCY_KEY_MAX)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty while the first is running.")
    # DRF's encoder: a replay renders exactly as the first answer did (datetimes included).
    response_body = models.JSONField(null=True, blank=True, encoder=JSONEncoder)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="api_idempotency_key_once")]
        indexes = [models.Index(fields=["created"], name="api_idempotency_created")]

    def __str__(self) -> str:
        return f"Idempotency-Key {self.key[:20]}"


class EnvelopeMetadata(models.Model):
    """One `metadata` entry the ISV gave an envelope (also sent to DocuSign as a hidden envelope custom field)."""

    envelope = models.ForeignKey("docusign_integration.Envelope", on_delete=models.CASCADE, related_name="metadata")
    key = models.CharField(max_length=100)
    value = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["envelope", "key"], name="api_metadata_key_once")]
        indexes = [models.Index(fields=["key", "value"], name="api_metadata_key_value")]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class CachedTemplate(models.Model):
    """A DocuSign template of an organization's account, as last listed; `allowed` is the ISV's choice, kept across
    refreshes."""

    organization = models.ForeignKey("tenants.ClientOrganization", on_delete=models.CASCADE, related_name="templates")
    template_id = models.CharField("DocuSign template id", max_length=36)
    name = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=500, blank=True)
    roles = models.JSONField(default=list, blank=True, help_text="[{role_name, recipient_id}] from the template.")
    allowed = models.BooleanField(default=False, help_text="The ISV lets this client's API calls send from it.")
    refreshed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "template_id"], name="api_template_once")]

    def __str__(self) -> str:
        return f"{self.name or self.template_id}"


class ApiKeyUsage(models.Model):
    """Calls and errors of one key in one hour: per-process counts added in batches (api/usage.py), not per request."""

    api_key = models.ForeignKey(OrganizationAPIKey, on_delete=models.CASCADE, related_name="usage")
    hour = models.DateTimeField()
    calls = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key", "hour"], name="api_usage_key_hour_once")]

    def __str__(self) -> str:
        return f"{self.api_key_id} at {self.hour:%Y-%m-%d %H}:00"
