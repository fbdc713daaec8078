"""`/healthz` and `/readyz` (docs/operations.md section 10): readiness fails with the name of what is down, says nothing
else about it, and recovers by itself when the service is back. Services go down behind a relay of the test's own
(tests/operations/relay.py): the machine's Redis and PostgreSQL keep running for everyone else."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from portal import health
from portal.celery import app as celery_app
from tests.operations.relay import Relay


def ready(client) -> tuple[int, dict]:
    response = client.get("/readyz")
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)


@pytest.fixture(autouse=True)
def _check_migrations_again(monkeypatch):
    monkeypatch.setattr(health, "_migrated", False)


@pytest.fixture
def broker_behind(monkeypatch):
    """Point the Celery app's broker at `url` for the test (the app read its settings at start-up)."""

    def point(url: str) -> None:
        for name in ("broker_url", "broker_read_url", "broker_write_url"):  # the last two were derived at start-up
            monkeypatch.setattr(celery_app.conf, name, url)

    return point


def test_healthz_answers_without_touching_the_database(client):
    response = client.get("/healthz")  # no django_db mark: a query would fail the test
    assert response.status_code == 200 and response.content == b"ok"


@pytest.mark.django_db
def test_readyz_is_ready_when_everything_answers(client, django_assert_max_num_queries):
    status, body = ready(client)
    assert status == 200, body
    assert body == {"status": "ready", "failing": [],
                    "checks": dict.fromkeys(["database", "migrations", "cache", "broker", "encryption_keys"], "ok")}
    with django_assert_max_num_queries(1):  # polled every few seconds: once migrated, one query
        assert ready(client)[0] == 200


@pytest.mark.redis
@pytest.mark.django_db
def test_readyz_names_redis_down_and_recovers_when_it_is_back(client, settings, redis_url, broker_behind):
    target = urlsplit(redis_url)
    relay = Relay(target.hostname or "127.0.0.1", target.port or 6379).start()
    try:
        url = f"redis://127.0.0.1:{relay.port}/8"
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                                       "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
        broker_behind(url)
        assert ready(client)[0] == 200

        relay.stop()
        status, body = ready(client)
        assert status == 503
        assert body["status"] == "unavailable" and body["failing"] == ["cache", "broker"]
        assert body["checks"]["database"] == "ok"
        text = json.dumps(body)
        assert str(relay.port) not in text and "127.0.0.1" not in text and "Error" not in text  # no internal detail

        relay.start()
        status, body = ready(client)
        assert status == 200, body
    finally:
        relay.stop()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_readyz_names_the_database_down_and_recovers_when_it_is_back(client):
    real = dict(connection.settings_dict)
    relay = Relay(real["HOST"] or "127.0.0.1", int(real["PORT"] or 5432)).start()
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(relay.port))
    try:
        assert ready(client)[0] == 200
        relay.stop()
        status, body = ready(client)
        assert status == 503 and body["failing"] == ["database", "migrations"]
        assert body["checks"]["database"] == "failing" and body["checks"]["migrations"] == "unknown"
        relay.start()
        status, body = ready(client)
        assert status == 200, body
    finally:
        relay.stop()
        connection.close()
        connection.settings_dict.update(HOST=real["HOST"], PORT=real["PORT"])


@pytest.mark.django_db
def test_readyz_names_a_migration_left_to_apply(client, monkeypatch):
    monkeypatch.setattr(health, "_migrated", False)  # an earlier probe in this process found the plan empty
    # The portal app's latest migration (an applied target's ancestors are not looked at), rolled back after the test.
    [(app, name)] = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes("portal")
    MigrationRecorder.Migration.objects.filter(app=app, name=name).delete()
    status, body = ready(client)
    assert status == 503 and body["failing"] == ["migrations"]


@pytest.mark.django_db
def test_readyz_names_missing_encryption_keys(client, settings):
    settings.PORTAL_ENCRYPTION_KEYS = []
    status, body = ready(client)
    assert status == 503 and body["failing"] == ["encryption_keys"]


@pytest.mark.django_db
def test_readyz_names_a_broker_that_does_not_answer(client, broker_behind):
    with __import__("socket").socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    broker_behind(f"redis://127.0.0.1:{closed}/8")
    status, body = ready(client)
    assert status == 503 and body["failing"] == ["broker"]
