"""Shared fixtures: no real network, the DocuSign sandbox on a loopback port, services when present.

Tests that need Redis, PostgreSQL or a browser are skipped with a one-line reason when the service is
missing, except under REQUIRE_SERVICES=1 (CI), where a missing service fails the run.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket

import pytest

from tests.network import install_network_guard

install_network_guard()

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = "/usr/bin/chromium"


def _redis_url() -> str:
    return os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def _redis_reachable() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(_redis_url(), socket_connect_timeout=1).ping())
    except Exception:
        return False


def _rabbitmq_url() -> str:
    return os.environ.get("RABBITMQ_URL") or "amqp://guest:guest@127.0.0.1:5672//"


def _rabbitmq_reachable() -> bool:
    try:
        from kombu import Connection

        with Connection(_rabbitmq_url(), connect_timeout=1) as connection:
            connection.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


def _need(available: bool, reason: str) -> None:
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("redis"):
        _need(_redis_reachable(), f"Redis is not reachable at {_redis_url()}")
    if item.get_closest_marker("rabbitmq") and not _rabbitmq_reachable():
        # Production may use RabbitMQ instead of Redis; CI's contract names Redis only, so this never fails a run.
        pytest.skip(f"RabbitMQ is not reachable at {_rabbitmq_url()}")
    if item.get_closest_marker("browser"):
        _need(shutil.which(CHROMIUM) is not None, f"{CHROMIUM} is not installed (apt-get install chromium)")
    if item.get_closest_marker("postgres"):
        from django.db import connection

        _need(connection.vendor == "postgresql", "the suite runs on SQLite (set DATABASE_URL to PostgreSQL)")


@pytest.fixture(scope="session", autouse=True)
def _close_background_connections(django_db_setup, django_db_blocker):
    """Before the test database is dropped, end the sessions that background threads (the sandbox's Connect
    sender, server threads) left open: PostgreSQL refuses to drop a database that others are using."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture(autouse=True)
def _forget_process_caches():
    """Per-process caches must not carry one test's rows into the next (ids are not reused on PostgreSQL)."""
    yield
    from docusign_integration.connect.hmac import forget_cached_keys

    forget_cached_keys()


@pytest.fixture(autouse=True)
def _rate_limits_on_the_tests_own_connection(request):
    """Rate-limit state has its own connection (DATABASES["docusign_rate_limits"]). A test that does not ask for
    that alias in `databases` records on the default connection instead: pytest-django refuses an alias a test
    did not ask for, and another connection cannot see the rows of a test that runs inside a transaction."""
    from django.test import override_settings

    marker = request.node.get_closest_marker("django_db")
    databases = marker.kwargs.get("databases") if marker else None
    if databases == "__all__" or "docusign_rate_limits" in (databases or ()):
        yield
        return
    with override_settings(DOCUSIGN_RATE_LIMIT_DATABASE="default"):
        yield


@pytest.fixture
def eager_celery():
    """Run queued tasks in-process (retries included), so a test sees at once what the worker would do.

    The Celery app read its configuration from settings before the test began, so the app's conf is changed.
    """
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous
        # Celery's "inside a task" flag is a process global that an eager task sets and restores around itself: two
        # eager tasks overlapping in two threads (the live server's and the test's) can leave it set, and every later
        # `.get()` in the process then fails with "Never call result.get() within a task!".
        from celery.result import _set_task_join_will_block

        _set_task_join_will_block(False)


@pytest.fixture
def redis_url() -> str:
    return _redis_url()


@pytest.fixture
def rabbitmq_url() -> str:
    return _rabbitmq_url()


@pytest.fixture
def sandbox(transactional_db, settings):
    """The DocuSign sandbox served over HTTP on a free loopback port, seeded, and the portal pointed at it.

    Yields a `SandboxInfo` whose `.url` is the origin and `.seed` the `sandbox_seed --json` data.
    """
    from tests.sandbox_harness import running_sandbox

    with running_sandbox(settings) as info:
        yield info


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in ("localhost",)


__all__ = ["is_loopback", "socket"]
