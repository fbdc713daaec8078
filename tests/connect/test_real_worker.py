"""With a real broker and worker: a stored Connect message is applied by `celery -A portal worker` (not eager mode).

Redis is CI's broker; RabbitMQ is production's other choice (README.md), run when one is reachable.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from docusign_integration.connect.tasks import process_connect_events
from docusign_integration.models import ConnectEvent, Envelope
from portal.celery import app as celery_app
from tests.connect.conftest import PARTNER_SECRET, fixture_body, signed_headers

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=[pytest.param("redis", marks=pytest.mark.redis),
                        pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
def broker_url(request) -> str:
    if request.param == "redis":
        return request.getfixturevalue("redis_url").rsplit("/", 1)[0] + "/7"
    return request.getfixturevalue("rabbitmq_url")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_applies_an_acknowledged_message(client, acme_organization, partner_key, broker_url):
    db = connection.settings_dict
    env = {**os.environ, "CELERY_BROKER_URL": broker_url, "DJANGO_SETTINGS_MODULE": "tests.settings",
           "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"}
    body = fixture_body("envelope-completed")
    # The suite's broker is in-memory, so the listener's own enqueue reaches no worker: the event waits, as after
    # a broker outage, and is queued on the real broker below in the message the listener sends.
    response = client.post("/docusign/connect/", data=body, content_type="application/json",
                           **signed_headers(body, PARTNER_SECRET))
    assert response.status_code == 200
    event = ConnectEvent.objects.get()
    assert event.state == "received"

    queue = f"portal-test-{uuid.uuid4().hex[:8]}"  # a queue of this test's own: a shared broker may hold others' messages
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "solo", "-l", "WARNING",
                               "-Q", queue], cwd=ROOT, env=env, start_new_session=True)
    try:
        with celery_app.connection_for_write(broker_url) as broker:
            process_connect_events.apply_async(args=[[event.pk]], connection=broker, queue=queue)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and ConnectEvent.objects.get().state == "received":
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(10)
        with celery_app.connection_for_write(broker_url) as broker:
            broker.default_channel.queue_delete(queue)
    assert ConnectEvent.objects.get().state == "applied"
    assert Envelope.objects.get().status == "completed"
