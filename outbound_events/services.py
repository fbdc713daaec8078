"""Staff actions on webhook endpoints and events: each atomic, audited, with a keyword-only `acting_user`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from tenants import audit
from tenants.models import ClientOrganization

from . import addresses, clock, secrets
from .models import EVENT_TYPES, Delivery, DeliveryState, OutboundEvent, WebhookEndpoint

ENDPOINT_FIELDS = ("url", "event_types", "enabled", "max_in_flight")


def validate_url(url: str) -> None:
    """Refuse an endpoint URL the deliveries would refuse (resolved now; checked again at every delivery)."""
    try:
        addresses.target(url)
    except addresses.RefusedURL as exc:
        raise ValidationError(str(exc), code="refused_url") from exc


def validate_event_types(event_types: Iterable[str]) -> list[str]:
    chosen = list(event_types)
    unknown = sorted(set(chosen) - set(EVENT_TYPES))
    if unknown:
        raise ValidationError(f"Unknown event types: {', '.join(unknown)}. Known: {', '.join(EVENT_TYPES)}.")
    return [t for t in EVENT_TYPES if t in chosen]


def endpoint_create(*, acting_user: User | None, organization: ClientOrganization, url: str,
                    event_types: Iterable[str] = (), max_in_flight: int = 4,
                    enabled: bool = True) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint with a fresh secret; returns it with the secret (shown once, never stored in clear)."""
    validate_url(url)
    endpoint = WebhookEndpoint(organization=organization, url=url, event_types=validate_event_types(event_types),
                               max_in_flight=max_in_flight, enabled=enabled)
    secret = secrets.generate()
    secrets.set_secret(endpoint, secret)
    with transaction.atomic():
        endpoint.save()
        audit.record(actor=acting_user, action="webhook_endpoint.create", organization=organization, target=endpoint,
                     after=audit.snapshot(endpoint, ENDPOINT_FIELDS))
    return endpoint, secret


def endpoint_update(*, acting_user: User | None, endpoint: WebhookEndpoint, url: str | None = None,
                    event_types: Iterable[str] | None = None, enabled: bool | None = None) -> WebhookEndpoint:
    """Change an endpoint; enabling it clears the failure record so its pending deliveries start again."""
    if url is not None:
        validate_url(url)
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        before = audit.snapshot(locked, ENDPOINT_FIELDS)
        if url is not None:
            locked.url = url
        if event_types is not None:
            locked.event_types = validate_event_types(event_types)
        if enabled is not None:
            if enabled and not locked.secret_ciphertext:
                raise ValidationError("This endpoint has no readable secret: rotate its secret first.")
            if enabled and not locked.enabled:
                locked.failing_since, locked.disabled_reason = None, ""
            locked.enabled = enabled
        locked.save()
        before, after = audit.changed(before, audit.snapshot(locked, ENDPOINT_FIELDS))
        if after:
            audit.record(actor=acting_user, action="webhook_endpoint.update", organization=locked.organization,
                         target=locked, before=before, after=after)
    return locked


def endpoint_rotate_secret(*, acting_user: User | None, endpoint: WebhookEndpoint, overlap: timedelta) -> str:
    """A new secret; the old one keeps signing (a second signature) for `overlap`. Returns the new secret."""
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if locked.secret_ciphertext:
            secret = secrets.rotate(locked, overlap=overlap)
        else:  # discarded with a lost encryption key: nothing to overlap with
            secret = secrets.generate()
            secrets.set_secret(locked, secret)
        locked.save()
        audit.record(actor=acting_user, action="webhook_endpoint.rotate_secret", organization=locked.organization,
                     target=locked, after={"previous_secret_until": locked.previous_secret_until})
    return secret


def endpoint_delete(*, acting_user: User | None, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint with its deliveries (the events stay, for the organization's other endpoints)."""
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        audit.record(actor=acting_user, action="webhook_endpoint.delete", organization=locked.organization,
                     target=locked, before=audit.snapshot(locked, ENDPOINT_FIELDS))
        locked.delete()


def events_replay(*, acting_user: User | None, events: QuerySet[OutboundEvent],
                  endpoint: WebhookEndpoint | None = None) -> int:
    """Deliver `events` again (to `endpoint`, or to every endpoint that had them), in order per envelope, with the same
    webhook-id. A delivery in flight is left alone. Returns how many deliveries were queued."""
    with transaction.atomic():
        deliveries = Delivery.objects.filter(event__in=events).exclude(state=DeliveryState.DELIVERING)
        if endpoint is not None:
            deliveries = deliveries.filter(endpoint=endpoint)
        ids = list(deliveries.order_by("sequence").values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=ids).update(state=DeliveryState.PENDING, next_attempt_at=clock.now(),
                                                   lease_until=None)
        audit.record(actor=acting_user, action="outbound_events.replay", organization=None,
                     target=endpoint or "every endpoint", after={"deliveries": len(ids)})
        transaction.on_commit(lambda: _enqueue_all(ids))
    return len(ids)


def _enqueue_all(ids: list[int]) -> None:
    from .tasks import enqueue_delivery

    for delivery_id in ids:
        enqueue_delivery(delivery_id)
