"""The sweep under DocuSign's failures (docs/security.md BG-1, BG-5): retried with back-off, or deferred to the reset."""

from __future__ import annotations

import time

import pytest
import requests

from background.task_retry import backoff
from docusign_integration.client import errors
from docusign_integration.envelopes.sync import envelopes_sweep, sync_state
from docusign_integration.envelopes.tasks import MAX_COUNTDOWN, sync_organization
from docusign_integration.models import Envelope
from tests.envelopes.conftest import add_fault, api_requests, docusign_envelope

LIST = r"/envelopes$"


@pytest.mark.parametrize("kind", ["500", "502", "503", "timeout", "drop"])
def test_transient_failures_are_retried_and_the_sweep_completes(sandbox, acme, fast_http, kind):
    docusign_envelope(acme.account_id, status="completed")
    add_fault(sandbox, LIST, kind, count=2)

    result = envelopes_sweep(acme)

    assert result.complete and Envelope.objects.get().status == "completed"
    if kind == "timeout":
        time.sleep(1.5)  # the sandbox logs a slowed request when it finally answers, after the client gave up
    assert api_requests(LIST).count() == 3  # two failed tries, then the answer


def test_the_task_retries_a_sweep_whose_every_try_failed(sandbox, acme, fast_http, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    docusign_envelope(acme.account_id, status="sent")
    add_fault(sandbox, LIST, "503", count=4)  # more than one call's three tries

    sync_organization.apply(args=[acme.pk])

    assert Envelope.objects.get().status == "sent"
    assert list(api_requests(LIST).values_list("status", flat=True)) == [503, 503, 503, 503, 200]


def test_retry_delays_grow_with_full_jitter_and_stay_below_the_visibility_timeout():
    delays = {retries: [backoff(retries) for _ in range(200)] for retries in range(10)}
    assert all(0 <= d <= min(MAX_COUNTDOWN, 30 * 2**n) for n, ds in delays.items() for d in ds)
    assert max(delays[0]) <= 30 < max(delays[4])
    assert MAX_COUNTDOWN < 3600  # settings: CELERY_VISIBILITY_TIMEOUT


def test_a_429_defers_the_account_until_its_reset_and_nothing_is_called_before(sandbox, acme, fast_http):
    docusign_envelope(acme.account_id, status="sent")
    add_fault(sandbox, LIST, "429")

    with pytest.raises(errors.RateLimited) as refused:
        envelopes_sweep(acme)
    assert sync_state(acme).next_allowed_at == refused.value.reset_at

    calls = api_requests().count()
    with pytest.raises(errors.RateLimited):
        envelopes_sweep(acme)  # before the reset (Retry-After: 1 s)
    assert api_requests().count() == calls


def test_the_hourly_limit_blocks_the_account_until_the_next_hour(sandbox, acme, fast_http):
    requests.post(f"{sandbox.url}/_sandbox/rate-limit", json={"account_id": acme.account_id, "hourly_limit": 1},
                  timeout=5).raise_for_status()
    docusign_envelope(acme.account_id, status="sent")
    envelopes_sweep(acme)  # the hour's one call

    with pytest.raises(errors.RateLimited) as refused:
        envelopes_sweep(acme)
    assert refused.value.error_code == "HOURLY_APIINVOCATION_LIMIT_EXCEEDED"
    assert api_requests().filter(status=400).count() == 1

    calls = api_requests().count()
    for _ in range(3):  # beat, the task's retry, a user coming back from DocuSign ...
        with pytest.raises(errors.RateLimited):
            envelopes_sweep(acme)
    assert api_requests().count() == calls
    assert sync_state(acme).next_allowed_at == refused.value.reset_at


def test_the_task_reschedules_a_rate_limited_sweep_for_the_reset(sandbox, acme, fast_http, monkeypatch):
    add_fault(sandbox, LIST, "429")
    scheduled = []

    def record_retry(*args, countdown=None, **kwargs):
        scheduled.append(countdown)
        raise RuntimeError("retry scheduled")

    monkeypatch.setattr(sync_organization, "retry", record_retry)
    with pytest.raises(RuntimeError):
        sync_organization.run(acme.pk)
    assert scheduled and 1 <= scheduled[0] <= 1 + 1 + 5  # Retry-After: 1, rounded up, plus jitter
