"""Rate-limit state is written outside the caller's transaction (docs/docusign.md §9).

A DocuSign call made inside `transaction.atomic()` must neither hold the account's AccountRateLimit row until
the caller's transaction ends (that would serialise every other call for the account) nor lose a block DocuSign
imposed when the caller rolls back. These tests ask for the rate-limit connection (`databases`), so they run
with the configuration production uses.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
from django.db import connection, transaction

from docusign_integration.client import errors, http, rest
from docusign_integration.models import AccountRateLimit
from docusign_sandbox import auth
from docusign_sandbox.models import IntegrationKey, RequestLog, User
from docusign_sandbox.seed import ACME
from tenants.models import ClientOrganization
from tests import factories

RATE_LIMIT_DB = "docusign_rate_limits"
BOTH_CONNECTIONS = pytest.mark.django_db(transaction=True, databases=["default", RATE_LIMIT_DB])
ACCOUNT = "a1b2c3d4-0000-4000-8000-000000000001"


class CallerRolledBack(Exception):
    pass


def _acme_token() -> str:
    user = User.objects.get(email="system@acme.example")
    return auth.issue_access_token(user, IntegrationKey.objects.get(), "signature impersonation", "jwt", 3600)


def _acme_requests(sandbox) -> int:
    return RequestLog.objects.filter(path__startswith=f"/restapi/v2.1/accounts/{ACME.account_id}/").count()


def _set_hourly_limit(sandbox, limit: int) -> None:
    response = requests.post(f"{sandbox.url}/_sandbox/rate-limit", json={"hourly_limit": limit,
                                                                        "account_id": ACME.account_id}, timeout=5)
    assert response.status_code == 200, response.text


@pytest.mark.postgres
@BOTH_CONNECTIONS
def test_a_block_from_docusign_survives_the_callers_rollback(sandbox):
    ref = rest.AccountRef("sandbox", ACME.account_id, sandbox.url)
    token = _acme_token()
    organization = factories.organization("Acme")
    _set_hourly_limit(sandbox, 1)
    rest.rest_call(ref, "GET", "/users", bearer=token)  # the hour's one allowed call

    with pytest.raises(CallerRolledBack), transaction.atomic():
        ClientOrganization.objects.select_for_update().filter(pk=organization.pk).update(name="Acme (renaming)")
        with pytest.raises(errors.RateLimited) as refused:
            rest.rest_call(ref, "GET", "/users", bearer=token)
        assert refused.value.error_code == "HOURLY_APIINVOCATION_LIMIT_EXCEEDED"
        raise CallerRolledBack  # e.g. the service function's audit row failed: everything it wrote is undone

    assert _acme_requests(sandbox) == 2
    with pytest.raises(errors.RateLimited) as caught:
        rest.rest_call(ref, "GET", "/users", bearer=token)
    assert caught.value.error_code == "BLOCKED_LOCALLY"
    assert _acme_requests(sandbox) == 2  # refused by the portal: nothing reached DocuSign
    assert AccountRateLimit.objects.get(environment="sandbox", account_id=ACME.account_id).blocked_until is not None
    assert ClientOrganization.objects.get(pk=organization.pk).name == "Acme"


@BOTH_CONNECTIONS
def test_a_block_survives_the_callers_rollback_on_any_database(fake_docusign):
    """The same on SQLite too. The in-process sandbox shares an in-memory SQLite test database's connection, so
    its request log would join the caller's transaction there; the scripted server gives the sandbox's answer."""
    ref = rest.AccountRef("sandbox", ACCOUNT, fake_docusign.url)
    fake_docusign.answer(400, json.dumps({
        "errorCode": "HOURLY_APIINVOCATION_LIMIT_EXCEEDED",
        "message": "The maximum number of hourly API invocations has been exceeded. The hourly limit is 1."}),
        {"Content-Type": "application/json", "X-RateLimit-Remaining": "0",
         "X-RateLimit-Reset": str(int(time.time()) + 1800)})

    with pytest.raises(CallerRolledBack), transaction.atomic():
        with pytest.raises(errors.RateLimited):
            rest.rest_call(ref, "GET", "/users", bearer="token")
        raise CallerRolledBack

    with pytest.raises(errors.RateLimited) as caught:
        rest.rest_call(ref, "GET", "/users", bearer="token")
    assert caught.value.error_code == "BLOCKED_LOCALLY"
    assert len(fake_docusign.received) == 1
    limit = AccountRateLimit.objects.get(environment="sandbox", account_id=ACCOUNT)
    assert (limit.remaining, limit.blocked_until is not None) == (0, True)


@pytest.mark.postgres
@BOTH_CONNECTIONS
def test_a_call_for_an_account_does_not_wait_for_another_callers_open_transaction(sandbox):
    ref = rest.AccountRef("sandbox", ACME.account_id, sandbox.url)
    token = _acme_token()
    a_called, b_done, a_released = threading.Event(), threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def caller_a() -> None:
        try:
            with transaction.atomic():
                rest.rest_call(ref, "GET", "/users", bearer=token)
                a_called.set()
                b_done.wait(10)  # holds its transaction open until B is through, or 10 s
                outcome["b_done_while_a_open"] = b_done.is_set()
        finally:
            a_released.set()
            connection.close()

    def caller_b() -> None:
        try:
            a_called.wait(10)
            started = time.monotonic()
            rest.rest_call(ref, "GET", "/users", bearer=token)
            outcome["b_seconds"] = time.monotonic() - started
            outcome["b_before_a_released"] = not a_released.is_set()
            b_done.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=caller_a), threading.Thread(target=caller_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert outcome["b_done_while_a_open"] is True
    assert outcome["b_before_a_released"] is True
    assert outcome["b_seconds"] < 5
    assert _acme_requests(sandbox) == 2  # both calls reached DocuSign: B was not refused or skipped
    limit = AccountRateLimit.objects.get(environment="sandbox", account_id=ACME.account_id)
    assert limit.remaining == limit.limit - 2  # and both recorded the headers DocuSign sent


@BOTH_CONNECTIONS
def test_a_rate_limit_write_that_cannot_be_made_leaves_docusigns_answer_intact(fake_docusign, caplog, settings):
    """The caller itself holds the account's row (PostgreSQL: lock_timeout) or SQLite's write lock: the write is
    skipped and logged, and the envelope DocuSign created is still reported as created."""
    settings.DOCUSIGN_HTTP_TIMEOUT = (2.0, 2.0)  # room for PostgreSQL's 1 s lock_timeout before the body is read
    ref = rest.AccountRef("sandbox", ACCOUNT, fake_docusign.url)
    fake_docusign.answer(201, '{"envelopeId": "e", "status": "sent"}', {"Content-Type": "application/json",
                                                                         "X-RateLimit-Remaining": "2999"})

    with transaction.atomic():
        AccountRateLimit.objects.create(environment="sandbox", account_id=ACCOUNT, remaining=5)
        response = rest.rest_call(ref, "POST", "/envelopes", bearer="token", json={})

    assert response.status_code == 201 and http.json_or_raise(response)["envelopeId"] == "e"
    assert "rate_limit_state_not_recorded" in caplog.text
    assert AccountRateLimit.objects.get(environment="sandbox", account_id=ACCOUNT).remaining == 5


@pytest.mark.django_db
def test_with_recording_switched_off_nothing_is_written(fake_docusign, settings):
    settings.DOCUSIGN_RATE_LIMIT_RECORDING = False
    ref = rest.AccountRef("sandbox", ACCOUNT, fake_docusign.url)
    fake_docusign.answer(200, "{}", {"Content-Type": "application/json", "X-RateLimit-Remaining": "2999"})
    fake_docusign.answer(400, json.dumps({"errorCode": "HOURLY_APIINVOCATION_LIMIT_EXCEEDED", "message": "m"}))
    fake_docusign.answer(200, "{}")

    rest.rest_call(ref, "GET", "/users", bearer="token")
    with pytest.raises(errors.RateLimited):
        rest.rest_call(ref, "GET", "/users", bearer="token")
    rest.rest_call(ref, "GET", "/users", bearer="token")

    assert not AccountRateLimit.objects.exists()
    assert len(fake_docusign.received) == 3
