"""The outbox: `record` writes an event, and its deliveries, in the caller's transaction (issue 17).

The state-changing code (envelope status, signed documents, consent, a connection needing reconnection, setup drift)
calls `record` inside the transaction that makes the change, so the event commits or rolls back with it: a crash
neither loses nor invents one. Delivery starts after commit. This module imports only Django and this app's models
(see the package docstring for the layering).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from django.db import models, transaction

from .models import EVENT_TYPES, Delivery, EventStream, OutboundEvent, WebhookEndpoint


class EnvelopeLike(Protocol):
    envelope_id: str
    status: str


def record(event_type: str, *, organization: models.Model, envelope: EnvelopeLike | None = None,
           data: Mapping[str, Any] | None = None, only_if: Callable[[], bool] | None = None) -> OutboundEvent | None:
    """Write one event for `organization` (about `envelope`, if given) and a delivery per subscribed endpoint.

    Must run inside the caller's transaction. The event's sequence number is the next of its envelope (or of the
    organization's envelope-less events), taken under that stream's row lock; `only_if`, when given, is asked under
    the same lock and no event is written when it answers False (so two workers racing to the same state write one).
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox.record must run inside the transaction of the state change it reports")
    envelope_id = envelope.envelope_id if envelope is not None else ""
    stream, _ = EventStream.objects.select_for_update().get_or_create(organization_id=organization.pk,
                                                                      envelope_id=envelope_id)
    if only_if is not None and not only_if():
        return None
    stream.last_sequence += 1
    stream.save(update_fields=["last_sequence"])
    payload: dict[str, Any] = {"organization": getattr(organization, "slug", str(organization.pk))}
    if envelope is not None:
        payload.update(envelope_id=envelope_id, status=envelope.status, metadata=_metadata(envelope))
    payload.update(data or {})
    payload["sequence"] = stream.last_sequence
    event = OutboundEvent.objects.create(organization_id=organization.pk, event_type=event_type, envelope_id=envelope_id,
                                         sequence=stream.last_sequence, data=payload)
    endpoints = WebhookEndpoint.objects.filter(organization_id=organization.pk, enabled=True)
    deliveries = Delivery.objects.bulk_create(
        Delivery(endpoint=endpoint, event=event, envelope_id=envelope_id, sequence=event.sequence)
        for endpoint in endpoints if endpoint.wants(event_type))
    if deliveries:
        ids = [delivery.pk for delivery in deliveries]
        transaction.on_commit(lambda: _enqueue(ids))
    return event


def record_envelope(*, organization: models.Model, envelope: EnvelopeLike, status_before: str,
                    recipients_before: Iterable[Mapping[str, str]]) -> None:
    """The events an envelope's applied news causes: recipient.completed for each recipient that just completed,
    then envelope.<status> when the status moved to one the ISV's product hears about (not "signed")."""
    completed_before = {r.get("recipient_id") for r in recipients_before if r.get("status") == "completed"}
    for recipient in getattr(envelope, "recipients", None) or []:
        if recipient.get("status") == "completed" and recipient.get("recipient_id") not in completed_before:
            record("recipient.completed", organization=organization, envelope=envelope,
                   data={"recipient_id": recipient.get("recipient_id", "")})
    if envelope.status != status_before and f"envelope.{envelope.status}" in EVENT_TYPES:
        record(f"envelope.{envelope.status}", organization=organization, envelope=envelope)


def _metadata(envelope: EnvelopeLike) -> dict[str, str]:
    """The ISV's own metadata of the envelope, if it has any. Issue 16 keeps it as key/value rows behind
    `envelope.metadata` (a related manager; read by duck typing, so this module imports nothing of the API app)."""
    value = getattr(envelope, "metadata", None)
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    if value is not None and hasattr(value, "values_list"):
        return dict(value.values_list("key", "value"))
    return {}


def _enqueue(delivery_ids: list[int]) -> None:
    from . import tasks  # the tasks import the delivery machinery; the outbox itself stays small

    for delivery_id in delivery_ids:
        tasks.enqueue_delivery(delivery_id)
