"""`GET /metrics`: Prometheus exposition, refused without `Authorization: Bearer <PORTAL_METRICS_TOKEN>` (404 when
no token is configured: metrics are off). docs/operations.md section 10 says what to graph and alert on.

Two sources. What happened (deliveries, calls, task runs) is counted where it happens (`portal.metrics`) and summed
over processes by prometheus_client's multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set. What *is* (open dead
letters, accounts near their hourly limit, Connect events waiting, events to the ISV's product not delivered yet,
the broker's queue depth) is read here, at scrape time, from the database and the broker: one aggregate query each,
whatever the number of organizations, and true whichever process did the work.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Count, F, Min, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from docusign_integration.client.rate_limits import NEAR_LIMIT_PERCENT  # the health page's and the ISV sweep's rule

logger = logging.getLogger(__name__)

BROKER_TIMEOUT = 2  # seconds; a scrape must not hang on a broker that does not answer


class _DefaultRegistry(Collector):
    """This process's own instruments (single-process mode: runserver, tests)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


class StateCollector(Collector):
    """Counts of what is in the database and the broker now, read at scrape time."""

    def collect(self) -> Iterator[Metric]:
        try:
            with transaction.atomic():  # a savepoint inside a caller's transaction: a failure leaves it usable
                gauges = list(self._database_gauges())
        except DatabaseError as exc:  # the database is down: the counters are still worth a scrape
            logger.warning("metrics_database_gauges_unavailable error=%s", type(exc).__name__)
            gauges = []
        yield from gauges
        yield from _queue_depth()

    @staticmethod
    def _database_gauges() -> Iterator[Metric]:
        from background.models import FailedTask
        from docusign_integration.connect.models import ConnectEventState
        from docusign_integration.models import AccountRateLimit, ConnectEvent

        now = timezone.now()
        yield GaugeMetricFamily("portal_dead_letters_open", "Tasks that failed for good and are not resolved",
                                value=FailedTask.objects.filter(resolved=False).count())
        windows = AccountRateLimit.objects.filter(reset_at__gt=now, limit__gt=0)
        yield GaugeMetricFamily(
            "portal_docusign_accounts_near_hourly_limit",
            f"DocuSign accounts with under {NEAR_LIMIT_PERCENT}% of their hourly API limit left in the current window",
            value=windows.filter(remaining__lt=F("limit") * NEAR_LIMIT_PERCENT / 100).count())
        yield GaugeMetricFamily("portal_docusign_accounts_blocked", "DocuSign accounts blocked until their limit resets",
                                value=AccountRateLimit.objects.filter(blocked_until__gt=now).count())
        waiting = ConnectEvent.objects.filter(state=ConnectEventState.RECEIVED).aggregate(
            count=Count("pk"), oldest=Min("received_at"))
        yield GaugeMetricFamily("portal_connect_events_waiting", "Stored Connect events not processed yet",
                                value=waiting["count"])
        oldest = waiting["oldest"]
        age = (now - oldest) if oldest else timedelta(0)
        yield GaugeMetricFamily("portal_connect_events_oldest_waiting_seconds",
                                "Age of the oldest stored Connect event not processed yet", value=age.total_seconds())
        yield from _outbound_gauges(now)


def _outbound_gauges(now: datetime) -> Iterator[Metric]:
    """Events to the ISV's product not delivered yet, the oldest one's age, and the endpoints that stopped taking them.

    Two aggregate queries whatever the number of organizations, endpoints or events: the unfinished deliveries are
    read through the (state, next_attempt_at) index, so delivered and failed rows (the bulk, kept for replays) are never
    scanned; the endpoints through their partial index of failing or disabled ones.
    """
    from outbound_events.models import FAILING_OR_DISABLED, UNFINISHED, Delivery, WebhookEndpoint

    # A disabled endpoint's deliveries are parked until staff enable it again (counted as a disabled endpoint below):
    # they would otherwise hold the lag up for as long as the endpoint stays off.
    pending = (Delivery.objects.filter(state__in=UNFINISHED, endpoint__enabled=True)
               .aggregate(count=Count("pk"), oldest=Min("created")))
    yield GaugeMetricFamily("portal_outbound_deliveries_pending",
                            "Deliveries of events to enabled endpoints waiting, retrying or in flight (not delivered or failed)",
                            value=pending["count"])
    oldest = pending["oldest"]
    yield GaugeMetricFamily("portal_outbound_delivery_lag_seconds",
                            "Age of the oldest of those deliveries (0 when none)",
                            value=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
    endpoints = WebhookEndpoint.objects.filter(FAILING_OR_DISABLED).aggregate(
        failing=Count("pk", filter=Q(enabled=True)), disabled=Count("pk", filter=Q(enabled=False)))
    gauge = GaugeMetricFamily("portal_outbound_endpoints_failing",
                              "Webhook endpoints failing since their last success (enabled), or disabled", labels=["state"])
    gauge.add_metric(["failing"], endpoints["failing"])
    gauge.add_metric(["disabled"], endpoints["disabled"])
    yield gauge


def _queue_depth() -> Iterator[Metric]:
    from portal.celery import app

    queue = app.conf.task_default_queue
    gauge = GaugeMetricFamily("portal_celery_queue_depth", "Messages waiting in the broker's queue", labels=["queue"])
    try:
        with app.connection_for_read(connect_timeout=BROKER_TIMEOUT) as connection:
            connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
            # Declared with the app's own arguments, as a worker declares it: a passive declare fails on Redis when the
            # queue is empty (Redis drops an empty list), and a declare with other arguments fails on RabbitMQ.
            declared: Any = app.amqp.queues[queue].bind(connection.default_channel).queue_declare()
            depth = declared.message_count
    except Exception as exc:  # broker down or queue not declared yet: no sample, and readiness says why
        logger.warning("metrics_queue_depth_unavailable error=%s", type(exc).__name__)
        return
    gauge.add_metric([queue], depth)
    yield gauge


def registry() -> CollectorRegistry:
    """A registry for one scrape: every process's instruments (multiprocess mode) or this one's, plus the state."""
    scrape = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(scrape)
    else:
        scrape.register(_DefaultRegistry())
    scrape.register(StateCollector())
    return scrape


def _authorized(request: HttpRequest, token: str) -> bool:
    supplied = request.headers.get("Authorization", "")
    return hmac.compare_digest(supplied.encode(), f"Bearer {token}".encode())


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.PORTAL_METRICS_TOKEN
    if not token:
        raise Http404  # metrics are off
    if not _authorized(request, token):
        response = HttpResponse("A bearer token is required.\n", status=401, content_type="text/plain")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    response = HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response
