"""A worker killed in the middle of a download (docs/security.md BG-3): real Celery workers on Redis, acks_late, PostgreSQL.

The sandbox holds the combined PDF's answer (a `timeout` fault) while worker 1 is inside the download; worker 1 is
SIGKILLed; Redis redelivers the unacknowledged task after its visibility timeout to worker 2, which waits out the dead
worker's lease and stores the document. The document ends up stored once, with DocuSign's SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.db import connection

from docusign_integration.envelopes.sync import envelopes_sweep
from docusign_integration.models import Envelope, SignedDocument
from docusign_sandbox.documents import combined_pdf
from tests.envelopes.conftest import add_fault, api_requests, docusign_envelope

ROOT = Path(__file__).resolve().parents[2]
REDIS_DB = 13  # a database of its own, flushed before and after
VISIBILITY_TIMEOUT = 5  # seconds
TASK = "docusign_integration.tasks_envelopes.download_envelope_documents"


def worker(env: dict[str, str], name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "--loglevel=WARNING", "-n", f"{name}@%h",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.mark.redis
@pytest.mark.postgres
def test_a_worker_killed_mid_download_still_ends_with_the_document_stored_once(sandbox, acme, settings, redis_url,
                                                                              media_root, monkeypatch):
    broker = redis_url.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    redis.Redis.from_url(broker).flushdb()
    in_docusign = docusign_envelope(acme.account_id, status="completed")
    envelopes_sweep(acme)
    envelope = Envelope.objects.get(envelope_id=in_docusign.envelope_id)
    settings.DOCUSIGN_SANDBOX_FAULT_DELAY = 8.0  # the sandbox holds the answer this long
    add_fault(sandbox, r"/documents/combined$", "timeout")
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "CELERY_BROKER_URL": broker,
           "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT), "DOCUSIGN_DOWNLOAD_LEASE_SECONDS": "4",
           "DOCUSIGN_READ_TIMEOUT": "30",
           "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
                           f"/{db['NAME']}",
           "DOCUSIGN_SANDBOX_URL": sandbox.url, "DOCUSIGN_ENVIRONMENTS": "sandbox", "MEDIA_ROOT": str(media_root),
           "DOCUSIGN_PRIVATE_KEY_FILE": settings.DOCUSIGN_PRIVATE_KEY_FILE,
           "DOCUSIGN_CLIENT_SECRET_FILE": settings.DOCUSIGN_CLIENT_SECRET_FILE}
    first = worker(env, "first")
    second = None
    try:
        monkeypatch.setenv("CELERY_BROKER_URL", broker)  # Celery prefers this variable (memory:// in tests) to broker=
        # set_as_current=False: shared tasks must keep resolving to the portal's app in the tests that follow.
        with Celery(broker=broker, set_as_current=False) as sender:
            sender.send_task(TASK, args=[acme.pk, envelope.envelope_id])
        wait_for(lambda: SignedDocument.objects.filter(envelope=envelope, kind="combined", state="downloading").exists(),
                 30, "worker 1 to start the download")
        time.sleep(0.5)  # inside the held request
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)

        # Redis hands the unacknowledged task out again once the visibility timeout has passed; a starting worker
        # restores such messages at once (a running one only scans every 100 s with kombu's defaults).
        time.sleep(VISIBILITY_TIMEOUT + 1)
        second = worker(env, "second")
        wait_for(lambda: SignedDocument.objects.filter(envelope=envelope, state="stored").count() == 2, 60,
                 "worker 2 to store both documents")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        redis.Redis.from_url(broker).flushdb()

    combined = SignedDocument.objects.get(envelope=envelope, kind="combined")
    assert combined.sha256 == hashlib.sha256(combined_pdf(in_docusign, False)).hexdigest()
    assert combined.attempts == 2  # worker 1's, cut short, and worker 2's
    stored = sorted(p.name for p in (media_root / Path(combined.storage_name).parent).iterdir())
    assert stored == ["certificate.pdf", "combined.pdf"]  # no second copy under another name, no partial file
    assert api_requests(r"/documents/combined$").count() >= 1
