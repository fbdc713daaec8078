"""Setup DocuSign account against the sandbox over loopback HTTP: idempotent push, drift, refusals."""

from __future__ import annotations

import pytest
from django.conf import settings

from docusign_integration.models import AccountSetupState, SetupProfile
from docusign_integration.setup import account_setup
from docusign_integration.setup.account_setup import SetupRefused, account_setup_push, account_setup_status
from docusign_integration.setup.models import SetupStatus
from docusign_sandbox.models import ConnectConfiguration, RequestLog
from tenants.models import AuditEvent
from tests.setup.conftest import configurations, sandbox_account

pytestmark = pytest.mark.usefixtures("sandbox")

PROFILE = settings.DOCUSIGN_SETUP_PROFILE


def writes(organization) -> list[tuple[str, str]]:
    """The POST/PUT/DELETE requests the sandbox answered for the organization's account."""
    return list(RequestLog.objects.filter(account_id=organization.account_id).exclude(method="GET")
                .order_by("pk").values_list("method", "path"))


def test_pushing_twice_leaves_exactly_one_configuration_that_matches_the_profile(acme):
    first = account_setup_push(acting_user=None, organization=acme)
    second = account_setup_push(acting_user=None, organization=acme)

    [configuration] = configurations(acme)
    assert configuration["name"] == PROFILE["connect_name"]
    assert configuration["urlToPublishTo"] == settings.PORTAL_BASE_URL + "/docusign/connect/"
    assert set(configuration["events"]) == set(PROFILE["connect_configuration"]["events"])
    assert configuration["eventData"] == {"version": "restv2.1", "format": "json", "includeData": ["recipients"]}
    assert (configuration["deliveryMode"], configuration["integratorManaged"], configuration["includeHMAC"],
            configuration["allowEnvelopePublish"]) == ("SIM", "true", "true", "true")
    assert first.status == second.status == SetupStatus.IN_SYNC
    assert second.connect_id == configuration["connectId"]
    assert sandbox_account(acme).settings["attachCompletedEnvelope"] == "true"
    # The second push found everything in place and wrote nothing.
    assert [method for method, _ in writes(acme)] == ["POST", "PUT"]


def test_only_the_settings_that_differ_are_pushed(acme):
    account = sandbox_account(acme)
    account.settings = {"enableResponsiveSigning": "true", "attachCompletedEnvelope": "false"}
    account.save()

    account_setup_push(acting_user=None, organization=acme)

    event = AuditEvent.objects.get(action="account_setup.push", organization=acme)
    assert event.after["settings_pushed"] == {"attachCompletedEnvelope": "true"}
    assert event.after["as"] == "the system user admin@acme.example"


def test_a_configuration_changed_in_docusign_is_drifted_naming_the_field_and_a_push_fixes_it(acme):
    account_setup_push(acting_user=None, organization=acme)
    stored = ConnectConfiguration.objects.get(account__account_id=acme.account_id)
    stored.body = {**stored.body, "includeHMAC": "false", "events": ["envelope-sent"]}
    stored.save()

    drifted = account_setup_status(organization=acme)

    assert drifted.status == SetupStatus.DRIFTED
    assert drifted.drift == ["events", "includeHMAC"]
    fixed = account_setup_push(acting_user=None, organization=acme)
    assert fixed.status == SetupStatus.IN_SYNC and fixed.drift == []
    [configuration] = configurations(acme)
    assert configuration["includeHMAC"] == "true"
    assert set(configuration["events"]) == set(PROFILE["connect_configuration"]["events"])
    assert account_setup_status(organization=acme).status == SetupStatus.IN_SYNC


def test_events_in_another_order_are_not_drift(acme):
    account_setup_push(acting_user=None, organization=acme)
    stored = ConnectConfiguration.objects.get(account__account_id=acme.account_id)
    stored.body = {**stored.body, "events": list(reversed(stored.body["events"]))}
    stored.save()

    assert account_setup_status(organization=acme).status == SetupStatus.IN_SYNC


def test_a_changed_account_setting_is_drift(acme):
    account_setup_push(acting_user=None, organization=acme)
    account = sandbox_account(acme)
    account.settings = {**account.settings, "enableResponsiveSigning": "false"}
    account.save()

    state = account_setup_status(organization=acme)

    assert (state.status, state.drift) == (SetupStatus.DRIFTED, ["settings.enableResponsiveSigning"])


def test_a_deleted_configuration_is_missing_and_the_next_push_creates_it_again(acme):
    account_setup_push(acting_user=None, organization=acme)
    ConnectConfiguration.objects.filter(account__account_id=acme.account_id).delete()

    assert account_setup_status(organization=acme).status == SetupStatus.MISSING
    account_setup_push(acting_user=None, organization=acme)
    assert len(configurations(acme)) == 1


def test_a_configuration_with_the_same_name_but_another_listener_is_left_alone(acme):
    account = sandbox_account(acme)
    theirs = ConnectConfiguration.objects.create(account=account, body={
        "name": PROFILE["connect_name"], "urlToPublishTo": "https://crm.acme.example/hooks", "configurationType": "custom",
        "events": ["envelope-completed"], "allowEnvelopePublish": "true",
    })

    account_setup_push(acting_user=None, organization=acme)

    theirs.refresh_from_db()
    assert theirs.body["urlToPublishTo"] == "https://crm.acme.example/hooks" and theirs.body["events"] == ["envelope-completed"]
    assert len(configurations(acme)) == 2


def test_a_system_user_who_is_not_an_administrator_gets_the_sentence_saying_who_must_act(initech):
    with pytest.raises(SetupRefused) as refused:
        account_setup_push(acting_user=None, organization=initech)

    assert refused.value.user_message == (
        "A DocuSign administrator of Initech must connect to DocuSign and run Setup, "
        "or make the system user sender@initech.example an administrator.")
    assert configurations(initech) == []
    assert writes(initech) == []
    state = AccountSetupState.objects.get(organization=initech)
    assert (state.status, state.last_error) == (SetupStatus.ERROR, refused.value.user_message)
    assert AuditEvent.objects.filter(action="account_setup.push_failed", organization=initech).exists()


def test_connect_disabled_on_the_account_gets_a_clear_message_and_nothing_changes(acme):
    account = sandbox_account(acme)
    account.settings = {"envelopeIntegrationEnabled": "false"}
    account.save()

    with pytest.raises(SetupRefused) as refused:
        account_setup_push(acting_user=None, organization=acme)

    assert "Connect is not enabled on the DocuSign account Acme Corp" in refused.value.user_message
    assert ConnectConfiguration.objects.filter(account=account).count() == 0
    assert writes(acme) == []
    assert sandbox_account(acme).settings == {"envelopeIntegrationEnabled": "false"}


def test_an_organization_without_an_account_is_told_to_choose_one_first(sandbox):
    from tests import factories

    organization = factories.organization("Fresh")

    with pytest.raises(SetupRefused, match="no DocuSign account yet"):
        account_setup_push(acting_user=None, organization=organization)


def test_a_profile_edited_by_staff_is_what_the_next_push_sends(acme):
    account_setup_push(acting_user=None, organization=acme)
    profile = SetupProfile.load()
    profile.connect_configuration = {**profile.connect_configuration, "events": ["envelope-completed"]}
    profile.save()

    assert account_setup_status(organization=acme).drift == ["events"]
    account_setup_push(acting_user=None, organization=acme)
    assert configurations(acme)[0]["events"] == ["envelope-completed"]


def test_drift_compares_only_the_profile_keys_in_docusign_string_forms():
    desired = {"includeHMAC": "true", "events": ["a", "b"], "eventData": {"version": "restv2.1", "includeData": ["x"]}}
    actual = {"includeHMAC": True, "events": ["b", "a"], "eventData": {"version": "restv2.1", "includeData": []},
              "pausePublish": "true"}

    assert account_setup.configuration_drift(desired, actual) == ["eventData.includeData"]


@pytest.mark.postgres
def test_two_pushes_at_the_same_time_make_one_configuration(acme):
    import threading

    from django.db import connection

    start, outcomes = threading.Barrier(2), []

    def push() -> None:
        try:
            start.wait()
            outcomes.append(account_setup_push(acting_user=None, organization=acme).status)
        finally:
            connection.close()

    threads = [threading.Thread(target=push) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes == [SetupStatus.IN_SYNC, SetupStatus.IN_SYNC]
    assert len(configurations(acme)) == 1
