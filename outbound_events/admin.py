"""Admin for the events to the ISV's product: endpoints (secret masked), the events with replay, and the delivery log.

An endpoint's secret is never shown on a page: the list and form show its last 4 characters, and
`manage.py webhook_endpoints show-secret ID` prints it on the server's terminal (as `staff_totp` does for TOTP).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from portal.admin_input import CheckedInputMixin
from tenants.users import signed_in_user

from . import secrets, services
from .models import EVENT_TYPES, Delivery, DeliveryAttempt, OutboundEvent, WebhookEndpoint

ROTATION_OVERLAP = timedelta(hours=24)


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https",
                         help_text="https on a public host; the portal refuses private, loopback and metadata addresses.")
    event_types = forms.MultipleChoiceField(choices=[(t, t) for t in EVENT_TYPES], required=False,
                                            widget=forms.CheckboxSelectMultiple, help_text="None ticked: every event.")

    class Meta:
        model = WebhookEndpoint
        fields = ("organization", "url", "event_types", "enabled", "max_in_flight")

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        services.validate_url(url)  # the same check every delivery makes (docs/security.md EV-1)
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(CheckedInputMixin, admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("organization", "display_url", "enabled", "subscribed", "failing_since", "flagged_at")
    list_filter = ("enabled",)
    list_select_related = ("organization",)
    search_fields = ("organization__name", "organization__slug", "url")
    autocomplete_fields = ("organization",)
    readonly_fields = ("secret_hint", "previous_secret_until", "failing_since", "flagged_at", "disabled_reason")
    actions = ("rotate_secret", "replay_last_day")

    @admin.display(description="Events")
    def subscribed(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.event_types) or "all"

    @admin.display(description="Secret")
    def secret_hint(self, obj: WebhookEndpoint) -> str:
        if obj.pk is None:
            return "made when you save; read it with `manage.py webhook_endpoints show-secret ID`"
        return f"{secrets.masked(obj)} (full: `manage.py webhook_endpoints show-secret {obj.pk}` on the server)"

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool) -> None:
        user = signed_in_user(request)
        try:
            if change:
                services.endpoint_update(acting_user=user, endpoint=obj, url=obj.url, event_types=obj.event_types,
                                         enabled=obj.enabled)
            else:
                created, _secret = services.endpoint_create(acting_user=user, organization=obj.organization, url=obj.url,
                                                            event_types=obj.event_types, max_in_flight=obj.max_in_flight)
                obj.pk = created.pk
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return
        obj.refresh_from_db()

    @admin.action(description="Rotate the secret (the old one signs too for 24 hours)")
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            services.endpoint_rotate_secret(acting_user=signed_in_user(request), endpoint=endpoint, overlap=ROTATION_OVERLAP)
        messages.success(request, f"Rotated {queryset.count()} secret(s). Read each new one on the server with "
                                  f"`manage.py webhook_endpoints show-secret ID` and give it to the ISV's developers.")

    @admin.action(description="Replay the last 24 hours of events to these endpoints")
    def replay_last_day(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        from . import clock

        since = clock.now() - timedelta(days=1)
        total = sum(services.events_replay(acting_user=signed_in_user(request), endpoint=endpoint,
                                           events=OutboundEvent.objects.filter(organization_id=endpoint.organization_id,
                                                                               occurred_at__gte=since))
                    for endpoint in queryset)
        messages.success(request, f"Queued {total} deliveries again, in order per envelope.")


@admin.register(OutboundEvent)
class OutboundEventAdmin(CheckedInputMixin, admin.ModelAdmin):
    list_display = ("event_type", "envelope_id", "sequence", "organization", "occurred_at")
    list_filter = ("event_type",)
    list_select_related = ("organization",)
    search_fields = ("envelope_id", "organization__name", "organization__slug")
    date_hierarchy = "occurred_at"  # a time range: filter by date, select all, replay
    fields = ("id", "event_type", "organization", "envelope_id", "sequence", "occurred_at", "data")
    readonly_fields = fields
    actions = ("replay",)

    def has_replay_permission(self, request: HttpRequest) -> bool:
        # A replay sends data again: it needs the right to change endpoints, not only to view events.
        return request.user.has_perm("outbound_events.change_webhookendpoint")

    @admin.action(description="Replay the selected events to their endpoints (same webhook-id, in order)",
                  permissions=["replay"])
    def replay(self, request: HttpRequest, queryset: QuerySet[OutboundEvent]) -> None:
        count = services.events_replay(acting_user=signed_in_user(request), events=queryset)
        messages.success(request, f"Queued {count} deliveries again, in order per envelope.")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OutboundEvent | None = None) -> bool:
        return False


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ("attempted_at", "status_code", "latency_ms", "error", "response_start")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-attempted_at",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(CheckedInputMixin, admin.ModelAdmin):
    """The delivery log: each event to each endpoint, its attempts, status codes, latency and the start of the answer."""

    list_display = ("event", "endpoint", "state", "attempts", "last_status_code", "last_error", "next_attempt_at",
                    "delivered_at")
    list_filter = ("state",)
    list_select_related = ("event", "endpoint")
    search_fields = ("envelope_id", "endpoint__organization__slug")
    fields = ("event", "endpoint", "state", "attempts", "first_attempt_at", "next_attempt_at", "delivered_at",
              "last_status_code", "last_error")
    readonly_fields = fields
    inlines = (DeliveryAttemptInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False
