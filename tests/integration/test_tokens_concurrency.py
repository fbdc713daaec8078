"""Single flight across threads on a cold cache: one JWT grant for 20 concurrent callers (docs/security.md TS-3)."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from docusign_integration.oauth import tokens
from docusign_sandbox.models import RequestLog

THREADS = 20


@pytest.mark.postgres
def test_twenty_threads_on_a_cold_cache_cause_exactly_one_grant(sandbox, transactional_db):
    user_id = sandbox.user("sender@initech.example")["user_id"]
    barrier = threading.Barrier(THREADS)
    results: list[str] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(10)
            results.append(tokens.get_impersonation_token("sandbox", user_id))
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert failures == []
    assert len(results) == THREADS and len(set(results)) == 1
    assert RequestLog.objects.filter(method="POST", path="/oauth/token").count() == 1
