"""Single flight across threads on a STALE cache: a cached token row exists but has expired (docs/security.md TS-3).

The cold-cache case (test_tokens_concurrency.py) is serialized by the insert of the row itself: every thread's
get_or_create waits on the first one's uncommitted row in the unique index. With a row already there, nothing
but the row lock and the re-read after it (`tokens.get_impersonation_token`) keeps 20 callers from 20 grants.
The JWT grant carries no account id, so `http.call` records no rate-limit row for it: no other lock is involved.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from docusign_integration.models import CachedAccessToken
from docusign_integration.oauth import tokens
from docusign_sandbox.models import RequestLog

THREADS = 20


def grants() -> int:
    return RequestLog.objects.filter(method="POST", path="/oauth/token").count()


def stale_row(user_id: str, *, expired_for: timedelta) -> str:
    """Cache a real token for `user_id`, then age the row; returns the old token."""
    old_token = tokens.get_impersonation_token("sandbox", user_id)
    row = CachedAccessToken.objects.get(environment="sandbox", user_id=user_id.lower())
    row.set_access_token(old_token, timezone.now() - expired_for)
    row.save()
    return old_token


def twenty_callers_at_once(user_id: str) -> tuple[list[str], list[BaseException]]:
    barrier = threading.Barrier(THREADS)
    results: list[str] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(10)
            results.append(tokens.get_impersonation_token("sandbox", user_id))
        except BaseException as exc:  # reported by the test
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results, failures


@pytest.mark.postgres
@pytest.mark.parametrize("expired_for", [timedelta(hours=1), timedelta(seconds=-30)],
                         ids=["expired", "within-renew-before"])
def test_twenty_threads_on_a_stale_cached_row_cause_exactly_one_grant(sandbox, transactional_db, expired_for):
    user_id = sandbox.user("sender@initech.example")["user_id"]
    old_token = stale_row(user_id, expired_for=expired_for)
    before = grants()

    results, failures = twenty_callers_at_once(user_id)

    assert failures == []
    assert grants() - before == 1, "more than one JWT grant for one stale token"
    assert len(results) == THREADS and len(set(results)) == 1
    [new_token] = set(results)
    assert new_token != old_token
    row = CachedAccessToken.objects.get(environment="sandbox", user_id=user_id.lower())
    assert row.is_fresh() and row.get_access_token() == new_token
