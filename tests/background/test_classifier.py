"""docs/security.md BG-1: each DocuSign failure a task meets is retried, deferred to the reset, or failed for good.

The faults come from the sandbox over HTTP (its `/_sandbox/` control API), and the decisions are those of real
tasks (`sync_organization`, `republish_failures`, `download_envelope_documents`) run in-process with their
`retry` recorded instead of scheduled.
"""

from __future__ import annotations

import math
import sqlite3
import uuid
from datetime import timedelta

import psycopg
import pytest
import requests
from django.db import IntegrityError, OperationalError
from django.utils import timezone

from background import task_retry
from background.models import FailedTask
from background.task_retry import Action, classify
from docusign_integration.client import envelopes as esign_envelopes
from docusign_integration.client import errors, http
from docusign_integration.client.rest import AccountRef
from docusign_integration.connect.tasks import republish_failures
from docusign_integration.envelopes.tasks import download_envelope_documents, sync_organization
from docusign_integration.models import CachedAccessToken, Envelope
from docusign_integration.oauth import tokens
from docusign_sandbox import faults
from docusign_sandbox.seed import GLOBEX_GENERAL
from portal.celery import app as celery_app
from tests.background.conftest import RetryScheduled
from tests.envelopes.conftest import add_fault, api_requests

LIST = r"/envelopes$"


def rate_limit(sandbox, **body: object) -> None:
    requests.post(f"{sandbox.url}/_sandbox/rate-limit", json=body, timeout=5).raise_for_status()


@pytest.mark.parametrize("kind", ["500", "502", "503", "drop", "timeout"],
                         ids=["500", "502", "503", "connection reset", "read timeout"])
def test_transient_failures_are_retried_with_jittered_backoff(sandbox, acme, fast_http, record_retries, kind):
    add_fault(sandbox, LIST, kind)
    retries = record_retries(sync_organization)

    with pytest.raises(RetryScheduled):
        sync_organization.run(acme.pk)

    assert isinstance(retries.exceptions[0], errors.TransientError)
    assert 0 <= retries.countdowns[0] <= task_retry.BACKOFF_BASE  # first retry: uniform(0, 30 s)


def test_backoff_doubles_with_full_jitter_and_is_capped_at_ten_minutes():
    failure = errors.TransientError(status=503)
    for retries in range(12):
        delays = [classify(failure, retries).countdown for _ in range(300)]
        ceiling = min(600, 30 * 2**retries)
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # full jitter reaches up to the ceiling, not a fixed delay
    assert task_retry.BACKOFF_MAX <= 600 and task_retry.DEFER_MAX < 3600  # below the visibility timeout


def test_an_hourly_limit_just_hit_is_waited_out_in_at_most_two_deferrals():
    now = timezone.now()
    reset_at = now + timedelta(seconds=3600)  # DocuSign's hourly window, hit in its first second
    first = task_retry.until_reset(reset_at, now)
    second = task_retry.until_reset(reset_at, now + timedelta(seconds=first))
    assert first == task_retry.DEFER_MAX and first + second >= 3600  # the task's other retries stay for real failures


def test_a_429_with_retry_after_defers_until_then(sandbox, acme, fast_http, record_retries, monkeypatch):
    monkeypatch.setattr(faults, "RETRY_AFTER_SECONDS", 12)  # the sandbox serves in this process
    add_fault(sandbox, LIST, "429")
    retries = record_retries(sync_organization)

    with pytest.raises(RetryScheduled):
        sync_organization.run(acme.pk)

    assert isinstance(retries.exceptions[0], errors.RateLimited)
    assert 12 <= retries.countdowns[0] <= 12 + 5 + 1  # Retry-After: 12, rounded up, plus at most 5 s of jitter


def test_the_hourly_limit_sent_as_400_defers_until_x_ratelimit_reset(sandbox, acme, fast_http, record_retries):
    rate_limit(sandbox, account_id=acme.account_id, hourly_limit=1, status=400)
    sync_organization.run(acme.pk)  # the hour's one call
    retries = record_retries(sync_organization)

    with pytest.raises(RetryScheduled):
        sync_organization.run(acme.pk)

    refused = retries.exceptions[0]
    assert (refused.status, refused.error_code) == (400, "HOURLY_APIINVOCATION_LIMIT_EXCEEDED")
    reset = api_requests(LIST).filter(status=400).get()  # DocuSign's X-RateLimit-Reset: the next hour
    assert refused.reset_at.minute == 0 and refused.reset_at > reset.at
    wait = math.ceil((refused.reset_at - timezone.now()).total_seconds())
    assert min(task_retry.DEFER_MAX, wait - 2) <= retries.countdowns[0] <= min(task_retry.DEFER_MAX, wait + 30)


def test_a_burst_limit_without_retry_after_defers_thirty_seconds(sandbox, acme, fast_http, record_retries):
    rate_limit(sandbox, account_id=acme.account_id, burst_limit=1, status=429)
    sync_organization.run(acme.pk)
    retries = record_retries(sync_organization)

    with pytest.raises(RetryScheduled):
        sync_organization.run(acme.pk)

    assert retries.exceptions[0].error_code == "BURST_APIINVOCATION_LIMIT_EXCEEDED"
    assert 29 <= retries.countdowns[0] <= 30 + 5


def _poison_cached_tokens(organization) -> None:
    """The system user's cached access token becomes one DocuSign does not accept (revoked, say)."""
    tokens.get_impersonation_token(organization.environment, organization.system_user.user_id)
    for row in CachedAccessToken.objects.all():
        row.set_access_token(f"revoked-{uuid.uuid4()}", timezone.now() + timedelta(hours=1))
        row.save()


def test_a_401_on_a_sweep_takes_one_new_grant_and_one_more_try_then_succeeds(sandbox, acme, fast_http, record_retries):
    _poison_cached_tokens(acme)
    retries = record_retries(sync_organization)

    sync_organization.run(acme.pk)

    assert list(api_requests(LIST).values_list("status", flat=True)) == [401, 200]
    assert retries.countdowns == []


def test_a_401_that_persists_is_permanent_and_becomes_a_dead_letter(sandbox, acme, fast_http, record_retries):
    _poison_cached_tokens(acme)
    retries = record_retries(republish_failures)

    assert republish_failures.apply(args=[acme.pk]).get() == 0

    assert api_requests(r"/connect/failures").get().status == 401
    assert retries.countdowns == []
    letter = FailedTask.objects.get()
    assert (letter.task_name, letter.args, letter.exception_class) == (
        "docusign_integration.tasks_connect.republish_failures", [acme.pk], "docusign_integration.client.errors.Unauthorized")
    assert letter.error_code == "AUTHORIZATION_INVALID_TOKEN"


def test_a_user_who_is_not_a_member_of_the_account_fails_the_sweep_without_retry(sandbox, acme, fast_http, record_retries):
    acme.account_id = GLOBEX_GENERAL.account_id  # the system user is not a member there
    acme.save(update_fields=["account_id"])
    retries = record_retries(sync_organization)

    with pytest.raises(errors.NotAMember) as refused:
        sync_organization.run(acme.pk)

    assert refused.value.error_code == "USER_DOES_NOT_BELONG_TO_SPECIFIED_ACCOUNT"
    assert retries.countdowns == []
    assert classify(refused.value, 0).action is Action.FAIL


def test_an_envelope_docusign_does_not_have_is_permanent(sandbox, acme, fast_http, record_retries):
    ref = AccountRef(acme.environment, acme.account_id, acme.base_uri)
    bearer = tokens.get_impersonation_token(acme.environment, acme.system_user.user_id)
    with pytest.raises(errors.NotFound) as missing:
        esign_envelopes.list_documents(ref, str(uuid.uuid4()), bearer=bearer)
    assert missing.value.error_code == "ENVELOPE_DOES_NOT_EXIST"
    assert classify(missing.value, 0).action is Action.FAIL

    # The download task: no retry; the document is marked failed for staff.
    gone = Envelope.objects.create(organization=acme, envelope_id=str(uuid.uuid4()), environment=acme.environment,
                                   status="completed", subject="Gone")
    retries = record_retries(download_envelope_documents)
    download_envelope_documents.run(acme.pk, gone.envelope_id)
    assert retries.countdowns == []
    assert set(gone.signed_documents.values_list("state", flat=True)) == {"failed"}


@pytest.mark.parametrize("failure, action", [
    (errors.TransientError(status=500), Action.RETRY),
    (errors.TransientError(status=504), Action.RETRY),
    (errors.TransientError(error_code="CONNECTION_ERROR"), Action.RETRY),
    (errors.TransientError(error_code="TIMEOUT"), Action.RETRY),
    # A rate limit's reset is taken from the clock when the test runs, not when it is collected (minutes earlier).
    (lambda: errors.RateLimited(status=429, reset_at=timezone.now() + timedelta(seconds=12)), Action.DEFER),
    (lambda: errors.RateLimited(status=400, error_code="HOURLY_APIINVOCATION_LIMIT_EXCEEDED",
                                reset_at=timezone.now() + timedelta(minutes=5)), Action.DEFER),
    (errors.Unauthorized(status=401, error_code="AUTHORIZATION_INVALID_TOKEN"), Action.FAIL),
    (errors.NotFound(status=400, error_code="ENVELOPE_DOES_NOT_EXIST"), Action.FAIL),
    (errors.NotAMember(status=400, error_code="USER_DOES_NOT_BELONG_TO_SPECIFIED_ACCOUNT"), Action.FAIL),
    (errors.PermissionDenied(status=403), Action.FAIL),
    (errors.ConsentRequired(status=400, error_code="consent_required"), Action.FAIL),
    (errors.BadResponse(status=200, error_code="INVALID_JSON"), Action.FAIL),
    (RuntimeError("not DocuSign's"), Action.FAIL),
], ids=lambda value: getattr(value, "value", None) or ("RateLimited" if callable(value) else type(value).__name__))
def test_every_error_class_has_one_decision(failure, action):
    if callable(failure):
        failure = failure()
    decision = classify(failure, 3)
    assert decision.action is action
    if action is Action.DEFER:
        wait = (failure.reset_at - timezone.now()).total_seconds()
        assert wait <= decision.countdown <= wait + 31
    assert (decision.countdown is None) == (action is Action.FAIL)


def test_http_maps_a_dropped_connection_to_a_retryable_error(sandbox, fast_http):
    add_fault(sandbox, r"^/oauth/userinfo", "drop")
    with pytest.raises(errors.TransientError) as dropped:
        http.call("GET", f"{sandbox.url}/oauth/userinfo", environment="sandbox", bearer="x")
    assert classify(dropped.value, 0).action is Action.RETRY


# --- Transient database errors (issue 12 item 5) ---------------------------------------------------------------------

def _sqlite_locked(path) -> OperationalError:
    """A real SQLite "database is locked", as Django raises it: another connection holds the write lock."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        sqlite3.connect(path, timeout=0).execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        return _as_django(exc)
    finally:
        holder.rollback()
    raise AssertionError("the second writer was not refused")


def _as_django(exc: Exception) -> OperationalError:
    try:
        raise OperationalError(*exc.args) from exc  # what django.db.utils.DatabaseErrorWrapper does
    except OperationalError as wrapped:
        return wrapped


def _postgres(error: type[psycopg.Error]) -> OperationalError:
    return _as_django(error("could not serialize access due to concurrent update"))


def _sqlite_no_such_table() -> OperationalError:
    try:
        sqlite3.connect(":memory:").execute("SELECT * FROM missing")
    except sqlite3.OperationalError as exc:
        return _as_django(exc)
    raise AssertionError("the query did not fail")


@pytest.mark.parametrize("make, action", [
    (lambda tmp: _sqlite_locked(tmp / "locked.sqlite3"), Action.RETRY),
    (lambda tmp: _postgres(psycopg.errors.SerializationFailure), Action.RETRY),
    (lambda tmp: _postgres(psycopg.errors.DeadlockDetected), Action.RETRY),
    (lambda tmp: _postgres(psycopg.errors.LockNotAvailable), Action.RETRY),
    (lambda tmp: _sqlite_no_such_table(), Action.FAIL),  # a missing migration: retrying cannot help
    (lambda tmp: _as_django(psycopg.errors.UndefinedTable("relation does not exist")), Action.FAIL),
    (lambda tmp: IntegrityError("UNIQUE constraint failed"), Action.FAIL),
], ids=["sqlite database is locked", "postgres serialization failure", "postgres deadlock", "postgres lock timeout",
        "sqlite no such table", "postgres undefined table", "integrity error"])
def test_a_transient_database_error_is_retried_soon_and_any_other_fails(tmp_path, make, action):
    failure = make(tmp_path)
    decisions = [classify(failure, retries) for retries in range(3) for _ in range(50)]
    assert {d.action for d in decisions} == {action}
    if action is Action.RETRY:  # the other transaction ends soon: seconds, not DocuSign's 30 s back-off
        assert all(0 <= d.countdown <= task_retry.DATABASE_BACKOFF_BASE * 4 for d in decisions)


_held_locks: dict[str, sqlite3.Connection] = {}


@celery_app.task(bind=True, max_retries=3)
def write_to_a_shared_sqlite_file(self, path: str) -> int:
    """A task whose first try meets another process's write lock (as a worker does on make run's SQLite)."""
    if self.request.retries:
        _held_locks.pop(path).rollback()  # by its retry, the other transaction has committed
    try:
        writer = sqlite3.connect(path, timeout=0, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        raise OperationalError(*exc.args) from exc
    return self.request.retries


def test_a_task_that_meets_a_locked_database_is_retried_not_dead_lettered(db, tmp_path):
    path = str(tmp_path / "shared.sqlite3")
    _held_locks[path] = sqlite3.connect(path, isolation_level=None)
    _held_locks[path].execute("BEGIN IMMEDIATE")

    result = write_to_a_shared_sqlite_file.apply(args=[path])

    assert result.successful(), result.traceback
    assert result.get() == 1  # the second try
    assert not FailedTask.objects.exists()
