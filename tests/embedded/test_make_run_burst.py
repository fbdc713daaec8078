"""Issue 12 item 5: `make run`'s embedded default (SQLite, the embedded broker, run.py) survives real use.

500 HMAC-signed Connect deliveries from 8 threads reach the listener of a running `make run` (the partner keys and
the consented organization come from its own seeds and a real JWT consent check); every event is applied by its
Celery worker, no task becomes a dead letter, no process crashes or is restarted, and no process ever reports
"database is locked". Then a worker killed with SIGKILL is restarted by run.py and the product keeps working.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests

from docusign_integration.connect.hmac import signature
from tests.embedded.make_run import alive

pytestmark = pytest.mark.make_run

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "connect")
DELIVERIES = 500
THREADS = 8
# Each envelope's life as Connect tells it; whatever order the deliveries arrive in, it ends `declined` (final).
LIFE = (("envelope-sent", "sent"), ("envelope-delivered", "delivered"), ("recipient-delivered", "delivered"),
        ("recipient-completed", "delivered"), ("envelope-declined", "declined"))
LOCKED = "database is locked"


def _template() -> dict:
    with open(os.path.join(FIXTURES, "recipient-completed.json"), "rb") as fixture:
        return json.load(fixture)


def deliveries(count: int, secret: str, account_id: str, start: datetime) -> tuple[list[tuple[bytes, dict]], set[str]]:
    """`count` distinct signed JSON SIM messages about count / len(LIFE) envelopes of `account_id`."""
    template = _template()
    messages, envelope_ids = [], set()
    for n in range(count // len(LIFE)):
        envelope_id = str(uuid.uuid4())
        envelope_ids.add(envelope_id)
        for step, (event, status) in enumerate(LIFE):
            at = (start + timedelta(seconds=n, milliseconds=step)).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
            summary = {**template["data"]["envelopeSummary"], "envelopeId": envelope_id, "status": status,
                       "statusChangedDateTime": at}
            data = {**template["data"], "accountId": account_id, "envelopeId": envelope_id, "envelopeSummary": summary}
            body = json.dumps({**template, "event": event, "generatedDateTime": at, "data": data}).encode()
            messages.append((body, {"Content-Type": "application/json", "X-DocuSign-AccountId": account_id,
                                    "X-Authorization-Digest": "HMACSHA256",
                                    "X-DocuSign-Signature-1": signature(secret, body)}))
    return messages, envelope_ids


def send(url: str, messages: list[tuple[bytes, dict]], threads: int) -> list[int]:
    local = threading.local()

    def post(message: tuple[bytes, dict]) -> int:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        return session.post(url, data=message[0], headers=message[1], timeout=60).status_code

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(post, messages))


def wait_for(predicate, timeout: float, interval: float = 1.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def test_500_signed_deliveries_from_8_threads_are_all_applied_without_a_crash(make_run, initech):
    secret = make_run.sandbox_seed()["hmac_keys"][0]["secret"]  # a partner key seed_demo imported
    before = make_run.processes()
    log_start = len(make_run.log())
    messages, envelope_ids = deliveries(DELIVERIES, secret, initech, datetime.now(UTC))

    statuses = send(f"{make_run.portal_url}/docusign/connect/", messages, THREADS)

    assert statuses == [200] * DELIVERIES
    placeholders = ",".join("?" * len(envelope_ids))

    def events_by_state() -> dict[str, int]:
        return dict(make_run.query(f"SELECT state, COUNT(*) FROM docusign_integration_connectevent "  # noqa: S608
                                   f"WHERE envelope_id IN ({placeholders}) GROUP BY state", *envelope_ids))

    # The sweeper (every minute) would pick up an event whose task was lost: allow it one round, not more.
    wait_for(lambda: events_by_state().get("received", 0) == 0, timeout=150)
    assert events_by_state() == {"applied": DELIVERIES}
    envelope_statuses = make_run.query(f"SELECT status, COUNT(*) FROM docusign_integration_envelope "  # noqa: S608
                                       f"WHERE envelope_id IN ({placeholders}) GROUP BY status", *envelope_ids)
    assert envelope_statuses == [("declined", len(envelope_ids))]
    assert make_run.query("SELECT COUNT(*) FROM portal_failedtask") == [(0,)]
    output = make_run.log()[log_start:]
    assert make_run.processes() == before, f"a process died or was restarted:\n{output[-3000:]}"
    assert all(alive(pid) for pid in before.values())
    assert LOCKED not in output
    assert "restart" not in output.lower() and "exited with" not in output
    assert "Traceback" not in output, output[output.index("Traceback") - 500:][:3000]


def test_a_killed_worker_is_restarted_and_the_product_keeps_serving(make_run, initech):
    secret = make_run.sandbox_seed()["hmac_keys"][0]["secret"]
    worker = make_run.processes()["worker"]

    os.kill(worker, signal.SIGKILL)

    assert wait_for(lambda: make_run.processes().get("worker") not in (None, worker), timeout=60), make_run.log()[-3000:]
    assert "worker" in make_run.log() and "restarted" in make_run.log()
    assert set(make_run.processes()) == {"portal", "sandbox", "worker", "beat"}
    messages, envelope_ids = deliveries(len(LIFE), secret, initech, datetime.now(UTC))
    assert send(f"{make_run.portal_url}/docusign/connect/", messages, 1) == [200] * len(LIFE)
    (envelope_id,) = envelope_ids
    assert wait_for(lambda: make_run.query("SELECT status FROM docusign_integration_envelope WHERE envelope_id = ?",
                                           envelope_id) == [("declined",)], timeout=90), make_run.log()[-3000:]
