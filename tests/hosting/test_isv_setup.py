"""The ISV account's own setup: `setup_isv_account` pushes the portal's Connect configuration (with the envelope custom
fields hosted routing reads) as the ISV's administrator system user, idempotently; drift shows with --dry-run and on
the ISV account's admin page."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from docusign_integration.setup.account_setup import listener_url
from docusign_integration.setup.models import SetupProfile
from docusign_sandbox.models import ConnectConfiguration, RequestLog
from docusign_sandbox.seed import PARTNER
from tenants.isv import isv_account_record
from tenants.models import AuditEvent, ISVAccount
from tests import factories


def setup_isv_account(sandbox, *extra: str) -> str:
    out = io.StringIO()
    call_command("setup_isv_account", "--environment", "sandbox", "--account-id", PARTNER.account_id,
                 "--base-uri", sandbox.site(PARTNER.account_id),
                 "--admin-user-id", sandbox.user("staff@isv.example")["user_id"], *extra, stdout=out)
    return out.getvalue()


def writes_to_the_isv_account() -> int:
    return RequestLog.objects.filter(path__startswith=f"/restapi/v2.1/accounts/{PARTNER.account_id}/").exclude(
        method="GET").count()


def portals_configurations() -> list[ConnectConfiguration]:
    return list(ConnectConfiguration.objects.filter(account__account_id=PARTNER.account_id,
                                                    body__name=SetupProfile.load().connect_name))


def test_setup_pushes_the_connect_configuration_with_custom_fields_and_a_second_run_writes_nothing(isv_account, sandbox):
    out = setup_isv_account(sandbox)

    [configuration] = portals_configurations()
    assert configuration.body["urlToPublishTo"] == listener_url()
    assert set(configuration.body["eventData"]["includeData"]) >= {"custom_fields", "recipients"}
    assert configuration.body["allowEnvelopePublish"] == "true" and configuration.body["allUsers"] == "true"
    assert "pushed; now in sync" in out
    isv = ISVAccount.objects.get(environment="sandbox")
    assert (isv.setup_status, isv.connect_id, isv.setup_drift) == ("in_sync", configuration.connect_id, [])
    pushed = AuditEvent.objects.get(action="isv.account_setup_push")
    assert pushed.after["created"] is True and pushed.after["found"] == "missing"

    writes = writes_to_the_isv_account()
    assert "in sync; nothing to push" in setup_isv_account(sandbox)
    assert writes_to_the_isv_account() == writes  # the second run wrote nothing to DocuSign
    assert len(portals_configurations()) == 1
    assert AuditEvent.objects.filter(action="isv.account_setup_push").count() == 2  # each push is on the record


def test_drift_made_in_docusign_shows_in_the_dry_run_and_on_the_admin_page_and_a_push_corrects_it(
        isv_account, sandbox, client, eager_celery):
    setup_isv_account(sandbox)
    [configuration] = portals_configurations()
    configuration.body["eventData"]["includeData"] = ["recipients"]  # someone removed the custom fields in DocuSign
    configuration.body["allowEnvelopePublish"] = "false"
    configuration.save()
    writes, audits = writes_to_the_isv_account(), AuditEvent.objects.count()

    out = io.StringIO()
    call_command("setup_isv_account", "--environment", "sandbox", "--dry-run", stdout=out)

    assert "drifted: eventData.includeData, allowEnvelopePublish" in out.getvalue()
    assert "Nothing was changed (--dry-run)" in out.getvalue()
    assert writes_to_the_isv_account() == writes and AuditEvent.objects.count() == audits
    assert ISVAccount.objects.get(environment="sandbox").setup_status == "in_sync"  # the dry run recorded nothing

    client.force_login(factories.isv_staff())
    isv = ISVAccount.objects.get(environment="sandbox")
    changelist = "/admin/tenants/isvaccount/"
    response = client.post(changelist, {"action": "check_setup", "_selected_action": [isv.pk]}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Drifted" in page and "eventData.includeData, allowEnvelopePublish" in page
    assert writes_to_the_isv_account() == writes  # the check only reads

    client.post(changelist, {"action": "push_setup", "_selected_action": [isv.pk]})
    configuration.refresh_from_db()
    assert "custom_fields" in configuration.body["eventData"]["includeData"]
    assert configuration.body["allowEnvelopePublish"] == "true"
    assert ISVAccount.objects.get(environment="sandbox").setup_status == "in_sync"
    assert AuditEvent.objects.filter(action="isv.account_setup_push").latest("pk").after["drift"] == [
        "eventData.includeData", "allowEnvelopePublish"]


@pytest.mark.django_db
def test_a_dry_run_without_a_recorded_isv_account_says_so():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="setup_isv_account"):
        call_command("setup_isv_account", "--environment", "sandbox", "--dry-run", stdout=io.StringIO())


def test_the_daily_check_records_the_isv_accounts_drift_and_writes_nothing_to_docusign(isv_account, sandbox):
    from docusign_integration.hosting.tasks import isv_account_setup_check_task

    setup_isv_account(sandbox)
    [configuration] = portals_configurations()
    configuration.body["includeHMAC"] = "false"
    configuration.save()
    writes = writes_to_the_isv_account()

    isv_account_setup_check_task.apply()  # beat's call: every ISV account

    isv = ISVAccount.objects.get(environment="sandbox")
    assert (isv.setup_status, isv.setup_drift) == ("drifted", ["includeHMAC"])
    assert AuditEvent.objects.get(action="isv.account_setup_check").after["setup_status"] == "drifted"
    assert writes_to_the_isv_account() == writes


def test_a_push_as_an_administrator_who_is_no_longer_one_is_refused_in_words_and_recorded(isv_account, sandbox):
    from docusign_integration.hosting.isv_setup import isv_account_setup_push
    from docusign_integration.setup.account_setup import SetupRefused
    from docusign_sandbox.models import Membership

    Membership.objects.filter(account__account_id=PARTNER.account_id, user__email="staff@isv.example").update(
        is_admin=False)

    with pytest.raises(SetupRefused, match="is not an administrator of the ISV account"):
        isv_account_setup_push(acting_user=None, environment="sandbox")

    isv = ISVAccount.objects.get(environment="sandbox")
    assert isv.setup_status == "error" and "make it one in DocuSign" in isv.setup_last_error
    assert AuditEvent.objects.filter(action="isv.account_setup_push_failed").exists()
    assert portals_configurations() == []


@pytest.mark.django_db
def test_the_isv_accounts_list_leads_to_provisioning_and_usage_and_says_how_to_record_the_account(client, sandbox):
    client.force_login(factories.isv_staff())
    empty = client.get("/admin/tenants/isvaccount/").content.decode()
    assert "No ISV account is recorded" in empty and "manage.py setup_isv_account" in empty
    assert 'href="/admin/tenants/isvaccount/provision/"' in empty and 'href="/admin/tenants/isvaccount/usage/"' in empty

    isv_account_record(acting_user=None, environment="sandbox", account_id=PARTNER.account_id,
                       base_uri=sandbox.site(PARTNER.account_id), admin_user_id=sandbox.user("staff@isv.example")["user_id"])
    recorded = client.get("/admin/tenants/isvaccount/").content.decode()
    assert "No ISV account is recorded" not in recorded and 'href="/admin/tenants/isvaccount/provision/"' in recorded


@pytest.mark.django_db
def test_recording_the_account_before_the_isv_admin_consented_says_it_is_recorded_and_what_is_missing(sandbox):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as refused:
        call_command("setup_isv_account", "--environment", "sandbox", "--account-id", PARTNER.account_id,
                     "--base-uri", sandbox.site(PARTNER.account_id),
                     "--admin-user-id", sandbox.user("staff@isv.example")["user_id"])
    assert "is recorded, but DocuSign refused to set it up" in str(refused.value)
    assert "consent" in str(refused.value) and "Run this command again" in str(refused.value)
    assert ISVAccount.objects.filter(environment="sandbox", account_id=PARTNER.account_id.lower()).exists()
