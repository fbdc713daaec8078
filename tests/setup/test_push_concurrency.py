"""Concurrent "Setup DocuSign account" pushes for one organization are serialized by the push's own lock.

PostgreSQL only (SQLite runs the push unlocked, development only), real threads, the sandbox over loopback HTTP.
The test must hold only because of `account_setup._locked_state`'s row lock, so every other lock that could
serialize the threads is kept out of the way:

- Rate-limit recording is switched off: `http._record_limits` writes an AccountRateLimit row inside the caller's
  transaction, a row lock of its own that the second push would wait on (issue 12 item 14 moves that write out
  of the transaction). `http._refuse_if_blocked` only reads, but is switched off with it, so nothing about rate
  limits can matter here.
- The system user's token is granted before the threads start, so no thread takes the token row's lock
  (`tokens.get_impersonation_token` locks that row inside the push's transaction when it grants).
- The state row exists before the threads start, so its get_or_create cannot race either.

The race window is made real: each push, once it has read the account's Connect configurations, waits (briefly)
for the other push to have read them too. Unlocked, both then read "no configuration" and both create one; with
the lock, the second push cannot read until the first has committed, and the wait just times out.
"""

from __future__ import annotations

import contextlib
import threading

import pytest
from django.db import connection

from docusign_integration.client import connect_configurations, http
from docusign_integration.models import AccountSetupState
from docusign_integration.oauth import tokens
from docusign_integration.setup.account_setup import account_setup_push
from docusign_integration.setup.models import SetupStatus
from docusign_sandbox.models import RequestLog
from tenants.models import AuditEvent
from tests.setup.conftest import configurations

PUSHES = 3
READ_WAIT = 3.0  # seconds a push that has read waits for the others to have read too


@pytest.fixture
def no_rate_limit_locks(monkeypatch):
    """Rate-limit recording off: its AccountRateLimit write is a row lock that would serialize the pushes too."""
    monkeypatch.setattr(http, "_record_limits", lambda *args, **kwargs: None)
    monkeypatch.setattr(http, "_refuse_if_blocked", lambda *args, **kwargs: None)


@pytest.fixture
def reads_wait_for_each_other(monkeypatch) -> list[int]:
    """Each listing of Connect configurations waits, after DocuSign answered, until every push has listed (or
    READ_WAIT passed). Returns, per listing, how many configurations it saw."""
    everyone_read = threading.Barrier(PUSHES)
    seen: list[int] = []
    original = connect_configurations.list_connect_configurations

    def list_then_wait(*args, **kwargs):
        listed = original(*args, **kwargs)
        seen.append(len(listed))
        # A broken barrier: the others are waiting on the push lock, as they should.
        with contextlib.suppress(threading.BrokenBarrierError):
            everyone_read.wait(READ_WAIT)
        return listed

    monkeypatch.setattr(connect_configurations, "list_connect_configurations", list_then_wait)
    return seen


def run_at_once(count: int, target) -> list[BaseException]:
    start, failures = threading.Barrier(count), []

    def run() -> None:
        try:
            start.wait(10)
            target()
        except BaseException as exc:  # reported by the test
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a push never finished"
    return failures


@pytest.mark.postgres
@pytest.mark.usefixtures("no_rate_limit_locks")
def test_concurrent_pushes_for_one_organization_make_exactly_one_connect_configuration(acme, reads_wait_for_each_other):
    system_user_id = acme.system_user.user_id
    tokens.get_impersonation_token(acme.environment, system_user_id)  # cached: no thread takes the token row lock
    AccountSetupState.objects.get_or_create(organization=acme)
    outcomes: list[SetupStatus] = []

    failures = run_at_once(PUSHES, lambda: outcomes.append(account_setup_push(acting_user=None, organization=acme).status))

    assert failures == []
    found = configurations(acme)
    assert [c["connectId"] for c in found] == [found[0]["connectId"]], "more than one Connect configuration was made"
    [configuration] = found
    # The first push saw none and created it; every later push, let in only after it committed, found it.
    assert sorted(reads_wait_for_each_other) == [0] + [1] * (PUSHES - 1)
    assert RequestLog.objects.filter(account_id=acme.account_id, method="POST", path__endswith="/connect").count() == 1
    assert outcomes == [SetupStatus.IN_SYNC] * PUSHES
    state = AccountSetupState.objects.get(organization=acme)
    assert (state.status, state.connect_id, state.last_error) == (SetupStatus.IN_SYNC, configuration["connectId"], "")
    pushes = AuditEvent.objects.filter(organization=acme, action="account_setup.push").order_by("pk")
    assert [event.after["created"] for event in pushes] == [True] + [False] * (PUSHES - 1)
