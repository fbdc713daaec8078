"""The webhook endpoints' request and response shapes; a URL passes the same checks as in the admin
(docs/security.md EV-1): Django's URL syntax, 500 characters, then outbound_events' SSRF rules, each refusal naming its
field."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from outbound_events import services
from outbound_events.models import EVENT_TYPES

MAX_OVERLAP_HOURS = 168


class EndpointUrlField(serializers.URLField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=500, help_text="https on a public host; private, loopback and metadata addresses "
                                                   "are refused.", **kwargs)

    def to_internal_value(self, data: Any) -> str:
        url: str = super().to_internal_value(data)
        try:
            services.validate_url(url)  # the admin's check, and every delivery's
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return url


def _event_types() -> serializers.ListField:
    return serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES), max_length=len(EVENT_TYPES),
                                 required=False, help_text="The event types to send; empty: every event.")


class WebhookEndpointCreate(serializers.Serializer):
    url = EndpointUrlField()
    event_types = _event_types()
    enabled = serializers.BooleanField(default=True)


class WebhookEndpointUpdate(serializers.Serializer):
    url = EndpointUrlField(required=False)
    event_types = _event_types()
    enabled = serializers.BooleanField(required=False)


class WebhookEndpointOut(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField())
    enabled = serializers.BooleanField()
    disabled_reason = serializers.CharField()
    secret_hint = serializers.CharField(help_text="The secret's last characters, to tell secrets apart; never the secret.")
    previous_secret_until = serializers.DateTimeField(allow_null=True,
                                                      help_text="Until when the previous secret signs too (rotation).")
    failing_since = serializers.DateTimeField(allow_null=True)
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()


class WebhookEndpointWithSecret(WebhookEndpointOut):
    secret = serializers.CharField(help_text="The Standard Webhooks signing secret: shown in this answer only.")


class WebhookEndpointList(serializers.Serializer):
    webhook_endpoints = WebhookEndpointOut(many=True)


class RotateIn(serializers.Serializer):
    overlap_hours = serializers.FloatField(default=24.0, min_value=0, max_value=MAX_OVERLAP_HOURS,
                                           help_text="How long the previous secret keeps signing too.")


class ReplayIn(serializers.Serializer):
    """One event (`event_id`) or a time range [`from`, `to`)."""

    event_id = serializers.UUIDField(required=False)
    start = serializers.DateTimeField(required=False, help_text="Events that occurred at or after this.")
    end = serializers.DateTimeField(required=False, help_text="Events that occurred before this (default: now).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("event_id" in attrs) == ("start" in attrs) or ("event_id" in attrs and "end" in attrs):
            raise serializers.ValidationError({"event_id": "Give either event_id, or start (and optionally end)."})
        if "start" in attrs and "end" in attrs and attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": "end must be after start."})
        return attrs


class ReplayOut(serializers.Serializer):
    queued = serializers.IntegerField(help_text="Deliveries queued again to this endpoint.")
