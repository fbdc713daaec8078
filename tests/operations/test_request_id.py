"""Request ids (docs/operations.md section 10): a well-formed incoming X-Request-ID is kept, anything else replaced; the id
is on the request's log lines and on the log lines of the tasks it enqueued, in the worker too."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
import requests
from django.db import connection

from docusign_integration.models import ConnectEvent
from portal.celery import app as celery_app
from portal.log_format import RedactedJsonFormatter
from portal.log_redaction import RedactSecretsFilter
from portal.request_id import RequestIdFilter
from tests.connect.conftest import PARTNER_SECRET, fixture_body, signed_headers
from tests.operations.conftest import Scrape

ROOT = Path(__file__).resolve().parents[2]
URL = "/docusign/connect/"


class JsonLines(logging.Handler):
    """The production console handler's formatting and filters (settings.LOGGING), kept in a list."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(RedactedJsonFormatter())
        self.addFilter(RequestIdFilter())
        self.addFilter(RedactSecretsFilter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def json_lines():
    handler = JsonLines()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler.lines
    root.removeHandler(handler)
    root.setLevel(previous)


@pytest.mark.parametrize("incoming", ["0f8fad5b-d9cb-469f-a165-70867728950e", "a" * 32, "1-5759e988-bd862e3fe1be46a9"])
def test_a_well_formed_incoming_id_is_kept(client, incoming):
    assert client.get("/healthz", HTTP_X_REQUEST_ID=incoming)["X-Request-ID"] == incoming


@pytest.mark.parametrize("incoming", ["short", "a" * 65, "has space in it", "line\nforged", "quote\"d-value", "é" * 10, ""])
def test_a_malformed_incoming_id_is_replaced(client, incoming):
    answered = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)["X-Request-ID"]
    assert answered != incoming and len(answered) == 32 and int(answered, 16) >= 0


def test_each_request_gets_its_own_id(client):
    assert client.get("/healthz")["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]


@pytest.mark.django_db(transaction=True)  # the listener's on_commit runs inside the request, as in production
def test_eager_tasks_log_with_the_request_id_and_the_request_keeps_it(client, acme_organization, partner_key,
                                                                       eager_celery, json_lines):
    """In-process (eager) execution: covers the id's context in a task run within the request, not the header."""
    request_id = f"req-{uuid.uuid4().hex}"
    body = fixture_body("envelope-completed")
    response = client.post(URL, data=body, content_type="application/json", HTTP_X_REQUEST_ID=request_id,
                           **signed_headers(body, PARTNER_SECRET))
    assert response.status_code == 200 and response["X-Request-ID"] == request_id
    task_lines = [line for line in json_lines if line["name"] == "docusign_integration.envelopes.status"]
    listener_lines = [line for line in json_lines if line["name"] == "docusign_integration.connect.listener"]
    assert task_lines and listener_lines
    assert {line["request_id"] for line in task_lines + listener_lines} == {request_id}


@pytest.fixture
def broker_db_8(redis_url, monkeypatch):
    """The app publishes to Redis db 8 (this branch's own; flushed) instead of the suite's in-memory broker."""
    url = redis_url.rsplit("/", 1)[0] + "/8"
    redis.Redis.from_url(url).flushdb()
    for name in ("broker_url", "broker_read_url", "broker_write_url"):
        monkeypatch.setattr(celery_app.conf, name, url)
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)
    yield url
    redis.Redis.from_url(url).flushdb()


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_logs_the_enqueuing_request_id_and_serves_its_counts(client, acme_organization, partner_key,
                                                                           broker_db_8, tmp_path):
    db = connection.settings_dict
    log_file = tmp_path / "worker.log"
    multiproc = tmp_path / "metrics"
    multiproc.mkdir()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "CELERY_BROKER_URL": broker_db_8, "DJANGO_SETTINGS_MODULE": "tests.settings",
           "PORTAL_LOG_FORMAT": "json", "PROMETHEUS_MULTIPROC_DIR": str(multiproc), "PORTAL_WORKER_METRICS_PORT": str(port),
           "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"}
    request_id = f"req-{uuid.uuid4().hex}"
    body = fixture_body("envelope-completed")
    response = client.post(URL, data=body, content_type="application/json", HTTP_X_REQUEST_ID=request_id,
                           **signed_headers(body, PARTNER_SECRET))
    assert response.status_code == 200
    assert redis.Redis.from_url(broker_db_8).llen("celery") == 1  # published with the request, before any worker
    with log_file.open("w") as output:
        # prefork, as in production: the task runs in a child process; the main process serves the worker's metrics
        worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "prefork",
                                   "--concurrency", "1", "-l", "INFO"], cwd=ROOT, env=env, stdout=output,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and ConnectEvent.objects.get().state == "received":
                time.sleep(0.2)
            scraped = Scrape(requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text)
        finally:
            worker.terminate()
            worker.wait(10)
    assert ConnectEvent.objects.get().state == "applied"
    lines = [json.loads(line) for line in log_file.read_text().splitlines() if line.startswith("{")]
    task_lines = [line for line in lines if line.get("name") == "docusign_integration.envelopes.status"]
    assert task_lines, log_file.read_text()[-3000:]
    assert all(line["request_id"] == request_id for line in task_lines)
    # The worker's own lines between tasks belong to no request.
    assert any(line.get("request_id") == "-" for line in lines)
    # Counted in the child, served by the main process (PROMETHEUS_MULTIPROC_DIR).
    assert scraped.value("portal_connect_events_processed_total", state="applied") == 1
    assert scraped.value("portal_celery_tasks_total", task="docusign_integration.tasks_connect.process_connect_events",
                         outcome="success") == 1
