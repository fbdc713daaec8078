"""Delivering one event to one endpoint: claim, sign, POST, record the outcome, and decide what comes next.

- At least once: a delivery is `delivering` under a lease while its POST runs; a worker that dies leaves the lease to
  run out and the sweeper queues the delivery again (the receiver may see it twice: same `webhook-id`).
- Order per envelope: a delivery is claimed only when no earlier delivery of the same endpoint and envelope is
  unfinished; finishing one (delivered or given up) queues the next.
- A concurrency limit per endpoint (`max_in_flight`), counted under the endpoint's row lock.
- Retries: exponential backoff with jitter until OUTBOUND_EVENTS_RETRY_WINDOW after the event, then the delivery
  fails and the endpoint is flagged; an endpoint that has failed without a success for OUTBOUND_EVENTS_DISABLE_AFTER is
  disabled and staff are alerted.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from uuid import UUID

from django.conf import settings
from django.core.mail import mail_admins
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from standardwebhooks.webhooks import Webhook

from portal import metrics
from tenants import audit

from . import addresses, clock, secrets, transport
from .models import UNFINISHED, Delivery, DeliveryAttempt, DeliveryState, OutboundEvent, WebhookEndpoint

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # failed, another attempt is scheduled
    FAILED = "failed"  # failed, given up
    WAITING = "waiting"  # an earlier delivery of the same envelope is unfinished
    THROTTLED = "throttled"  # the endpoint has max_in_flight deliveries in flight
    NOT_DUE = "not_due"
    BUSY = "busy"  # another worker holds it
    DONE = "done"  # already delivered or given up, or gone
    DISABLED = "disabled"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    retry_in: float | None = None  # seconds, when the task should run again
    next_ids: tuple[int, ...] = ()  # deliveries this one's end made claimable


def backoff(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failures: exponential, capped, with jitter in [d/2, d]."""
    delay = min(settings.OUTBOUND_EVENTS_RETRY_CAP, settings.OUTBOUND_EVENTS_RETRY_BASE * 2 ** max(attempts - 1, 0))
    return random.uniform(delay / 2, delay)


def body_of(event: OutboundEvent) -> bytes:
    """The JSON the ISV's product receives (Standard Webhooks' type / timestamp / data shape)."""
    return json.dumps({"type": event.event_type, "timestamp": event.occurred_at.isoformat(), "data": event.data},
                      separators=(",", ":"), sort_keys=True).encode("utf-8")


def signed_headers(endpoint: WebhookEndpoint, event: OutboundEvent, body: bytes) -> dict[str, str]:
    now = clock.now()
    signatures = [Webhook(secret).sign(event.webhook_id, now, body) for secret in secrets.signing_secrets(endpoint, now)]
    return {"webhook-id": event.webhook_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": " ".join(signatures), "content-type": "application/json",
            "user-agent": "partner-portal-webhooks/1"}


def attempt(delivery_id: int) -> Result:
    """Claim the delivery if it may go now, POST it, and record the outcome."""
    claimed = _claim(delivery_id)
    if isinstance(claimed, Result):
        return claimed
    delivery = claimed
    answer = _send(delivery)
    result = _finish(delivery, answer)
    # Counted where the attempt ends; a DONE here is an answer that came after another worker took the delivery over.
    metrics.outbound_delivery_ended("superseded" if result.outcome == Outcome.DONE else result.outcome.value)
    return result


def _claim(delivery_id: int) -> Delivery | Result:
    with transaction.atomic():
        endpoint_id = Delivery.objects.filter(pk=delivery_id).values_list("endpoint_id", flat=True).first()
        if endpoint_id is None:
            return Result(Outcome.DONE)
        # The endpoint's row lock serializes claims for it, so the in-flight count below is exact.
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        delivery = Delivery.objects.select_related("event").get(pk=delivery_id)
        now = clock.now()
        if delivery.state not in UNFINISHED:
            return Result(Outcome.DONE)
        if delivery.state == DeliveryState.DELIVERING and delivery.lease_until and delivery.lease_until > now:
            return Result(Outcome.BUSY)
        if not endpoint.enabled:
            return Result(Outcome.DISABLED)
        if delivery.next_attempt_at > now:
            return Result(Outcome.NOT_DUE, retry_in=(delivery.next_attempt_at - now).total_seconds())
        if Delivery.objects.filter(endpoint=endpoint, envelope_id=delivery.envelope_id, sequence__lt=delivery.sequence,
                                   state__in=UNFINISHED).exists():
            return Result(Outcome.WAITING)
        in_flight = Delivery.objects.filter(endpoint=endpoint, state=DeliveryState.DELIVERING, lease_until__gt=now).count()
        if in_flight >= endpoint.max_in_flight:
            return Result(Outcome.THROTTLED, retry_in=random.uniform(0.2, 1.0))
        Delivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.DELIVERING, lease_until=now + timedelta(seconds=settings.OUTBOUND_EVENTS_LEASE_SECONDS),
            attempts=F("attempts") + 1, first_attempt_at=Coalesce("first_attempt_at", now))
        delivery.refresh_from_db(fields=["state", "attempts", "lease_until", "first_attempt_at"])
        delivery.endpoint = endpoint
        return delivery


def _send(delivery: Delivery) -> transport.Answer:
    endpoint, event = delivery.endpoint, delivery.event
    try:
        target = addresses.target(endpoint.url)
    except addresses.RefusedURL as exc:
        return transport.Answer(None, 0, error=f"refused: {exc}"[:200])
    body = body_of(event)
    try:
        headers = signed_headers(endpoint, event, body)
    except Exception as exc:  # a secret that cannot be decrypted: an attempt that fails, never a crash loop
        logger.error("outbound_secret_unreadable endpoint=%s error=%s", endpoint.pk, type(exc).__name__)
        return transport.Answer(None, 0, error=f"the endpoint's secret cannot be read ({type(exc).__name__})")
    return transport.post(target, headers, body)


def _finish(delivery: Delivery, answer: transport.Answer) -> Result:
    endpoint = delivery.endpoint
    with transaction.atomic():
        now = clock.now()
        DeliveryAttempt.objects.create(delivery=delivery, attempted_at=now, status_code=answer.status,
                                       latency_ms=answer.latency_ms, error=answer.error[:200],
                                       response_start=answer.response_start)
        # Only the holder of this attempt settles the row: a worker whose lease ran out and was re-claimed only logs.
        mine = Delivery.objects.select_for_update().filter(pk=delivery.pk, state=DeliveryState.DELIVERING,
                                                           attempts=delivery.attempts).first()
        if answer.ok:
            WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
            if mine is None:
                return Result(Outcome.DONE)
            Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.DELIVERED, delivered_at=now, lease_until=None,
                                                           last_status_code=answer.status, last_error="")
            return Result(Outcome.DELIVERED, next_ids=_next_in_stream(delivery))
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
        _disable_if_failing_too_long(endpoint.pk)
        if mine is None:
            return Result(Outcome.DONE)
        delay = backoff(delivery.attempts)
        failure = {"lease_until": None, "last_status_code": answer.status, "last_error": answer.error[:200]}
        window_end = delivery.event.occurred_at + timedelta(seconds=settings.OUTBOUND_EVENTS_RETRY_WINDOW)
        if now + timedelta(seconds=delay) > window_end:
            Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED, **failure)
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(flagged_at=now)
            logger.warning("outbound_delivery_failed delivery=%s endpoint=%s attempts=%d", delivery.pk, endpoint.pk,
                           delivery.attempts)
            return Result(Outcome.FAILED, next_ids=_next_in_stream(delivery))
        Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.PENDING,
                                                       next_attempt_at=now + timedelta(seconds=delay), **failure)
        return Result(Outcome.RETRY, retry_in=delay)


def _next_in_stream(delivery: Delivery) -> tuple[int, ...]:
    following = (Delivery.objects.filter(endpoint_id=delivery.endpoint_id, envelope_id=delivery.envelope_id,
                                         sequence__gt=delivery.sequence, state=DeliveryState.PENDING)
                 .order_by("sequence").values_list("pk", flat=True).first())
    return (following,) if following is not None else ()


def _disable_if_failing_too_long(endpoint_id: UUID) -> None:
    """Disable an endpoint whose failures have gone on without a success for OUTBOUND_EVENTS_DISABLE_AFTER; alert staff."""
    window_start = clock.now() - timedelta(seconds=settings.OUTBOUND_EVENTS_DISABLE_AFTER)
    endpoint = (WebhookEndpoint.objects.select_for_update()
                .filter(pk=endpoint_id, enabled=True, failing_since__lte=window_start).first())
    if endpoint is None:
        return
    endpoint.enabled = False
    endpoint.disabled_reason = f"Disabled automatically: every delivery failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC."
    endpoint.save(update_fields=["enabled", "disabled_reason", "updated"])
    organization = endpoint.organization
    audit.record(actor=None, action="webhook_endpoint.disabled", organization=organization, target=endpoint,
                 after={"enabled": False, "failing_since": endpoint.failing_since})
    where = endpoint.display_url
    logger.error("outbound_endpoint_disabled endpoint=%s organization=%s", endpoint.pk, organization.slug)
    transaction.on_commit(lambda: mail_admins(
        f"Webhook endpoint of {organization.name} disabled",
        f"Every delivery to {where} has failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC, so the endpoint was "
        f"disabled. Its events are kept: fix the receiver, enable the endpoint in the admin, and replay what it missed.",
        fail_silently=True))
