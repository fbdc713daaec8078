"""A Celery worker's own metrics endpoint, for workers on machines where no web process serves their counters
(docs/operations.md section 10). Off unless PORTAL_WORKER_METRICS_PORT is set.

The worker's main process serves prometheus_client's exposition on that port; with PROMETHEUS_MULTIPROC_DIR set
(prefork: tasks run in child processes) it sums what every child wrote there. It carries the same bounded labels as
`/metrics` and no database state (the web's `/metrics` reads that), so it needs no token: bind it to an address only
Prometheus reaches (PORTAL_WORKER_METRICS_ADDRESS, loopback by default).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery.signals import worker_ready
from django.conf import settings
from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)


@worker_ready.connect
def serve_worker_metrics(**kwargs: Any) -> None:
    port = int(getattr(settings, "PORTAL_WORKER_METRICS_PORT", 0) or 0)
    if not port:
        return
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    address = getattr(settings, "PORTAL_WORKER_METRICS_ADDRESS", "127.0.0.1")
    start_http_server(port, addr=address, registry=registry)
    logger.info("worker_metrics_serving address=%s port=%d", address, port)
