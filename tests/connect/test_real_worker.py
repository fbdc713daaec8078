"""With a real broker and worker: a stored Connect message is applied by `celery -A portal worker` (not eager mode)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from docusign_integration.models import ConnectEvent, Envelope
from docusign_integration.tasks_connect import process_connect_events
from portal.celery import app as celery_app
from tests.connect.conftest import PARTNER_SECRET, fixture_body, signed_headers

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_applies_an_acknowledged_message(client, acme_organization, partner_key, redis_url):
    broker = redis_url.rsplit("/", 1)[0] + "/7"
    db = connection.settings_dict
    env = {**os.environ, "CELERY_BROKER_URL": broker, "DJANGO_SETTINGS_MODULE": "tests.settings",
           "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"}
    body = fixture_body("envelope-completed")
    # The suite's broker is in-memory, so the listener's own enqueue reaches no worker: the event waits, as after
    # a broker outage, and is queued on Redis below in the message the listener sends.
    response = client.post("/docusign/connect/", data=body, content_type="application/json",
                           **signed_headers(body, PARTNER_SECRET))
    assert response.status_code == 200
    event = ConnectEvent.objects.get()
    assert event.state == "received"

    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "solo", "-l", "WARNING"],
                              cwd=ROOT, env=env, start_new_session=True)
    try:
        with celery_app.connection_for_write(broker) as redis_connection:
            process_connect_events.apply_async(args=[[event.pk]], connection=redis_connection)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and ConnectEvent.objects.get().state == "received":
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(10)
    assert ConnectEvent.objects.get().state == "applied"
    assert Envelope.objects.get().status == "completed"
