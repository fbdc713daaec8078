"""`/healthz` (liveness: the process answers) and `/readyz` (readiness: it can do its work), for load balancers and
orchestrators polling every few seconds (docs/operations.md section 10).

`/readyz` answers 200 or 503 with the name and result of each check: `database` (a query answers), `migrations`
(nothing left to apply), `cache`, `broker` and `encryption_keys` (PORTAL_ENCRYPTION_KEYS parse). Never an
exception's text, a host or a URL: those can hold passwords, and a readiness probe is often reachable unsigned.
The log line names the check and the exception class for the operator.

Hand-written rather than django-health-check: each check is one call of Django's or kombu's own API; the answer's
vocabulary is fixed (its views render exception text); the migrations check is remembered once it passed (a new
release is a new process), so a poll costs a query, a cache round trip and a broker connection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)

BROKER_TIMEOUT = 2  # seconds: a probe's own timeout is usually a few seconds
_migrated = False  # once the plan is empty it stays empty for this process's code


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def check_database() -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        if not connection.in_atomic_block:
            connection.close()  # a broken persistent connection (CONN_MAX_AGE): the next poll opens a new one
        raise


def check_migrations() -> None:
    global _migrated
    if _migrated:
        return
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise RuntimeError("unapplied migrations")
    _migrated = True


def check_cache() -> None:
    cache.set("portal:readyz", "1", timeout=30)
    if cache.get("portal:readyz") != "1":
        raise RuntimeError("the cache did not return what was stored")


def check_broker() -> None:
    from portal.celery import app

    with app.connection_for_write(connect_timeout=BROKER_TIMEOUT) as connection:
        connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)


def check_encryption_keys() -> None:
    from docusign_integration.keys.encryption import validate_keys

    validate_keys()


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "migrations": check_migrations,
    "cache": check_cache,
    "broker": check_broker,
    "encryption_keys": check_encryption_keys,
}


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        if name == "migrations" and results.get("database") != "ok":
            results[name] = "unknown"
            continue
        try:
            check()
        except Exception as exc:
            logger.warning("readiness_check_failed check=%s error=%s", name, type(exc).__name__)
            results[name] = "failing"
        else:
            results[name] = "ok"
    ready = all(result == "ok" for result in results.values())
    failing = [name for name, result in results.items() if result != "ok"]
    return JsonResponse({"status": "ready" if ready else "unavailable", "failing": failing, "checks": results},
                        status=200 if ready else 503)
