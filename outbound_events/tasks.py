"""Celery tasks of the outbound events: one delivery attempt (ids only), and the sweeper that beat runs."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef

from . import clock, delivery
from .models import UNFINISHED, Delivery, DeliveryState

logger = logging.getLogger(__name__)
SWEEP_BATCH = 1000
# A retry further away than this waits in the database, not in the broker: the sweeper queues it when due, so no task
# message is held longer than the broker's visibility timeout (docs/security.md BG-3).
BROKER_DELAY_MAX = 300.0


def enqueue_delivery(delivery_id: int, countdown: float | None = None) -> None:
    """Queue an attempt; a broker that is down loses nothing (the sweeper finds the pending row)."""
    try:
        deliver.apply_async(args=(delivery_id,), countdown=countdown or 0)
    except Exception as exc:  # kombu's connection errors vary by transport; the row is the record, not the message
        logger.warning("outbound_enqueue_failed delivery=%s error=%s", delivery_id, type(exc).__name__)


@shared_task(acks_late=True, ignore_result=True)
def deliver(delivery_id: int) -> str:
    """Attempt one delivery and queue whatever its outcome calls for (a retry, the envelope's next event)."""
    if not isinstance(delivery_id, int) or isinstance(delivery_id, bool):
        logger.warning("outbound_deliver_bad_argument type=%s", type(delivery_id).__name__)
        return "refused"
    result = delivery.attempt(delivery_id)
    for next_id in result.next_ids:
        enqueue_delivery(next_id)
    if result.retry_in is not None and result.retry_in <= BROKER_DELAY_MAX:
        enqueue_delivery(delivery_id, countdown=result.retry_in)
    return result.outcome.value


@shared_task(ignore_result=True)
def sweep() -> int:
    """Queue what no message will: leases of dead workers, and due deliveries whose message was lost. Returns how many."""
    now = clock.now()
    with transaction.atomic():
        # A dead worker's deliveries: each was its envelope's first unfinished one when claimed, so it goes at once.
        expired = list(Delivery.objects.select_for_update(skip_locked=True)
                       .filter(state=DeliveryState.DELIVERING, lease_until__lt=now).values_list("pk", flat=True)[:SWEEP_BATCH])
        Delivery.objects.filter(pk__in=expired).update(state=DeliveryState.PENDING, next_attempt_at=now, lease_until=None)
    overdue = now - timedelta(seconds=settings.OUTBOUND_EVENTS_SWEEP_GRACE)
    earlier = Delivery.objects.filter(endpoint_id=OuterRef("endpoint_id"), envelope_id=OuterRef("envelope_id"),
                                      sequence__lt=OuterRef("sequence"), state__in=UNFINISHED)
    # Only each envelope's first unfinished delivery: the rest follow it in order.
    due = Delivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=overdue, endpoint__enabled=True)
    ids = expired + list(due.exclude(Exists(earlier)).order_by("next_attempt_at").values_list("pk", flat=True)[:SWEEP_BATCH])
    for delivery_id in ids:
        enqueue_delivery(delivery_id)
    if ids:
        logger.info("outbound_sweep queued=%d", len(ids))
    return len(ids)
