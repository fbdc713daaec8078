"""Background work for hosted clients: per-client setup and sweeps leave them out; the ISV account is swept once."""

from __future__ import annotations

import pytest

from docusign_integration.envelopes.tasks import syncable_organizations
from docusign_integration.hosting.tasks import sweep_isv_accounts
from docusign_integration.models import Envelope
from docusign_integration.setup.account_setup import SetupRefused, account_setup_push
from docusign_integration.setup.tasks import account_setup_check_all
from docusign_sandbox.models import RequestLog
from tests.hosting.conftest import send_draft


def test_setting_up_a_hosted_client_is_refused_before_any_docusign_call(hosted_pair, eager_celery):
    alpha, _ = hosted_pair
    calls = RequestLog.objects.count()
    with pytest.raises(SetupRefused, match="setup_isv_account"):
        account_setup_push(acting_user=None, organization=alpha.organization)
    assert account_setup_check_all() == 0  # the daily drift check queues none of them
    assert RequestLog.objects.count() == calls


def test_the_beat_task_sweeps_the_isv_account_once_for_every_hosted_client(hosted_pair):
    alpha, bravo = hosted_pair
    ids = {send_draft(alpha, "Alpha's"), send_draft(bravo, "Bravo's")}
    Envelope.objects.all().delete()

    assert not syncable_organizations().filter(pk__in=[alpha.organization.pk, bravo.organization.pk]).exists()
    assert sweep_isv_accounts.apply().get() == 1
    assert set(Envelope.objects.values_list("envelope_id", flat=True)) == ids


def test_a_hosted_clients_return_sweeps_its_isv_account_and_its_own_sweep_calls_nobody(hosted_pair, eager_celery):
    """Back from DocuSign's page, a hosted client's envelopes are read by the ISV account's one sweep; a queued
    per-organization sweep for it (it has no watermark of its own) ends quietly instead of becoming a dead letter."""
    from background.models import FailedTask
    from docusign_integration.envelopes.tasks import sync_organization
    from docusign_integration.hosting.tasks import isv_account_sweep_soon
    from tenants.models import ISVAccount

    alpha, _ = hosted_pair
    calls = RequestLog.objects.count()
    sync_organization.delay(alpha.organization.pk)
    assert RequestLog.objects.count() == calls and not FailedTask.objects.exists()

    envelope_id = send_draft(alpha, "Alpha's return")
    Envelope.objects.filter(envelope_id=envelope_id).delete()
    assert isv_account_sweep_soon("sandbox", "signing_complete")  # outside a transaction: runs at once (eager)
    assert Envelope.objects.filter(organization=alpha.organization, envelope_id=envelope_id).exists()
    assert ISVAccount.objects.get(environment="sandbox").last_sweep_at is not None
