"""The ISV account's sweep waits while the account is near its hourly limit: every hosted client shares that budget,
and the sweep is only the fallback behind Connect (docusign_integration/hosting/sweep.py)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from docusign_integration.client.models import AccountRateLimit
from docusign_integration.hosting.sweep import isv_account_sweep
from docusign_integration.hosting.tasks import sweep_isv_accounts
from docusign_integration.models import Envelope
from docusign_sandbox.models import RequestLog
from docusign_sandbox.seed import PARTNER
from tests.hosting.conftest import send_draft


def budget(remaining: int | None, *, reset_in: timedelta = timedelta(minutes=30), blocked: bool = False) -> None:
    now = timezone.now()
    AccountRateLimit.objects.update_or_create(environment="sandbox", account_id=PARTNER.account_id, defaults={
        "limit": 3000, "remaining": remaining, "reset_at": now + reset_in,
        "blocked_until": now + reset_in if blocked else None})


@pytest.fixture
def lost_envelope(hosted_pair) -> str:
    """An envelope of Alpha's that the portal has not recorded (its Connect message was lost, say)."""
    alpha, _ = hosted_pair
    envelope_id = send_draft(alpha, "Alpha's")
    Envelope.objects.all().delete()
    return envelope_id


def test_near_the_hourly_limit_the_sweep_makes_no_call_and_says_until_when(lost_envelope, caplog):
    caplog.set_level(logging.INFO, logger="docusign_integration.hosting.sweep")
    budget(299)  # under 10% of 3,000 left in this window
    calls = RequestLog.objects.count()

    result = isv_account_sweep("sandbox")
    assert sweep_isv_accounts.apply().get() == 1  # the beat task neither fails nor retries

    assert RequestLog.objects.count() == calls  # not even a token request
    assert (result.calls, result.deferred_until) == (0, AccountRateLimit.objects.get().reset_at)
    assert "isv_account_sweep deferred environment=sandbox remaining=299 limit=3000" in caplog.text
    assert not Envelope.objects.exists()


def test_a_running_block_defers_it_too(lost_envelope):
    budget(None, blocked=True)
    calls = RequestLog.objects.count()
    assert isv_account_sweep("sandbox").deferred_until == AccountRateLimit.objects.get().blocked_until
    assert RequestLog.objects.count() == calls


@pytest.mark.parametrize("state", ["plenty left", "the window has reset"])
def test_with_budget_left_or_a_new_window_it_sweeps(lost_envelope, state):
    budget(300) if state == "plenty left" else budget(5, reset_in=timedelta(minutes=-1))

    result = isv_account_sweep("sandbox")

    assert result.deferred_until is None and result.calls >= 1
    assert Envelope.objects.filter(envelope_id=lost_envelope).exists()
