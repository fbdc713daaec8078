"""Hosted clients' system users in the ISV account, over loopback HTTP against the sandbox (docs/docusign.md §10.1)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from docusign_integration.consent.system_user import consent_verify
from docusign_integration.hosting.provisioning import PROFILE_SETTINGS, hosted_client_provision
from docusign_sandbox.models import Membership, PermissionProfile
from docusign_sandbox.seed import PARTNER
from tenants.models import AuditEvent, ClientOrganization, ConsentStatus, ConsentType, Hosting, SystemUser


def members(email: str) -> list[Membership]:
    return list(Membership.objects.filter(account__account_id=PARTNER.account_id, user__email__iexact=email))


def test_provisioning_twice_creates_one_system_user_with_the_portals_profile(isv_account):
    call_command("provision_client", "Bravo Dental", "--environment", "sandbox", "--hosted", stdout=io.StringIO())
    call_command("provision_client", "Bravo Dental", "--environment", "sandbox", "--hosted", "--slug", "bravo-dental",
                 stdout=io.StringIO())

    organization = ClientOrganization.objects.get(slug="bravo-dental")
    system_user = SystemUser.objects.get(organization=organization)
    found = members("docusign+bravo-dental@isv.example")
    assert len(found) == 1
    assert found[0].user.user_id == system_user.user_id
    assert system_user.email == "docusign+bravo-dental@isv.example"
    assert found[0].permission_profile == isv_account.permission_profile_name
    assert not found[0].is_admin
    assert organization.hosting == Hosting.HOSTED
    assert organization.account_id == PARTNER.account_id
    profile = PermissionProfile.objects.get(account__account_id=PARTNER.account_id,
                                            name=isv_account.permission_profile_name)
    assert profile.settings["allowApiAccessToAccount"] == "false"
    assert profile.settings["allowAccountManagement"] == "false"
    assert profile.settings["allowEnvelopeSending"] == "true"


def test_two_hosted_clients_share_the_isv_account_with_a_user_each(isv_account):
    first = hosted_client_provision(acting_user=None, name="Alpha Law", environment="sandbox")
    second = hosted_client_provision(acting_user=None, name="Beta Law", environment="sandbox")

    assert first.account_id == second.account_id == PARTNER.account_id
    assert first.system_user.user_id != second.system_user.user_id


def test_offboarding_closes_the_hosted_system_user(isv_account, eager_celery):
    organization = hosted_client_provision(acting_user=None, name="Gamma Clinic", environment="sandbox")

    call_command("offboard_client", organization.slug, "--reason", "contract ended", stdout=io.StringIO())

    (membership,) = members("docusign+gamma-clinic@isv.example")
    assert membership.user_status == "Closed"
    assert AuditEvent.objects.filter(action="system_user.close", organization=organization).exists()


def test_provisioning_again_reopens_a_closed_user_instead_of_adding_one(isv_account, eager_celery):
    hosted_client_provision(acting_user=None, name="Delta Labs", environment="sandbox")
    # Closed in DocuSign by someone (an offboarded client is not provisioned again: tests/tenants/test_provision_race.py).
    Membership.objects.filter(user__email="docusign+delta-labs@isv.example").update(user_status="Closed")

    hosted_client_provision(acting_user=None, name="Delta Labs", environment="sandbox")

    (membership,) = members("docusign+delta-labs@isv.example")
    assert membership.user_status == "Active"


def test_setup_corrects_a_profile_widened_to_account_wide_access(isv_account, sandbox):
    hosted_client_provision(acting_user=None, name="Echo Works", environment="sandbox")
    profile = PermissionProfile.objects.get(account__account_id=PARTNER.account_id,
                                            name=isv_account.permission_profile_name)
    profile.settings = {**profile.settings, "allowApiAccessToAccount": "true"}
    profile.save()

    call_command("setup_isv_account", "--environment", "sandbox", "--account-id", PARTNER.account_id,
                 "--base-uri", sandbox.site(PARTNER.account_id),
                 "--admin-user-id", sandbox.user("staff@isv.example")["user_id"], stdout=io.StringIO())

    profile.refresh_from_db()
    assert profile.settings["allowApiAccessToAccount"] == "false"
    assert {k: profile.settings[k] for k in PROFILE_SETTINGS} == PROFILE_SETTINGS
    event = AuditEvent.objects.get(action="isv.permission_profile_correct")
    assert event.before == {"allowApiAccessToAccount": "true"}


def test_the_isv_organization_consent_covers_each_hosted_system_user(isv_account):
    organization = hosted_client_provision(acting_user=None, name="Foxtrot Freight", environment="sandbox")

    consent_verify(acting_user=None, organization=organization)

    system_user = SystemUser.objects.get(organization=organization)
    assert system_user.consent_status == ConsentStatus.GRANTED, system_user.last_error
    organization.refresh_from_db()
    assert organization.account_id == PARTNER.account_id
    assert organization.base_uri
    assert system_user.consent_type in ("", ConsentType.ORGANIZATION_ADMIN)


def test_hosted_provisioning_without_an_isv_account_is_refused_and_stores_nothing(sandbox):
    with pytest.raises(CommandError, match="No ISV account"):
        call_command("provision_client", "Golf Corp", "--environment", "sandbox", "--hosted", stdout=io.StringIO())
    assert not ClientOrganization.objects.exists()


def test_hosted_takes_no_system_user_options(isv_account):
    with pytest.raises(CommandError, match="--hosted"):
        call_command("provision_client", "Hotel Inc", "--environment", "sandbox", "--hosted",
                     "--system-user-id", "a0000001-0000-4000-8000-000000000001", stdout=io.StringIO())


def test_staff_without_the_add_permission_cannot_provision(isv_account):
    from django.test import Client

    from tests import factories

    client = Client()
    client.force_login(factories.isv_staff("viewer", permissions=False))
    assert client.post("/admin/tenants/isvaccount/provision/", {"name": "Juliet", "environment": "sandbox"}).status_code == 403
    assert not members("docusign+juliet@isv.example")
