"""Staff provision a hosted client without waiting for DocuSign: the request records it, a Celery task makes its user.

Against the sandbox over loopback HTTP (docs/docusign.md §10.1): the admin's POST calls nobody, the organization
says its user is being created, the task creates the user once (a second run records nothing), a transient error is
retried, and a permanent failure is kept on the organization in words and as a dead letter.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from background.models import FailedTask
from docusign_integration.client import users as esign_users
from docusign_integration.consent.tasks import check_consent_task
from docusign_integration.hosting.tasks import provision_hosted_system_user
from docusign_sandbox.models import Membership, RequestLog
from docusign_sandbox.seed import PARTNER
from tenants.models import AuditEvent, ClientOrganization, ConsentStatus, SystemUser
from tests import factories
from tests.envelopes.conftest import add_fault, fast_http  # noqa: F401 (fixture)

PROVISION = "/admin/tenants/isvaccount/provision/"


def members(email: str) -> list[Membership]:
    return list(Membership.objects.filter(account__account_id=PARTNER.account_id, user__email__iexact=email))


@pytest.fixture
def queued(monkeypatch) -> list[tuple]:
    """The provisioning tasks the request queued (their arguments), instead of sending them to the broker."""
    calls: list[tuple] = []
    monkeypatch.setattr(provision_hosted_system_user, "delay", lambda *args: calls.append(args))
    return calls


@pytest.fixture
def staff(isv_account) -> Client:
    client = Client()
    client.force_login(factories.isv_staff())
    return client


def hosted_state(staff: Client, organization: ClientOrganization) -> str | None:
    """What the organization's admin page says about its hosted system user, or None."""
    page = staff.get(f"/admin/tenants/clientorganization/{organization.pk}/change/").content.decode()
    found = re.search(r'<p class="[a-z]+" id="hosted-provisioning">(.*?)</p>', page, re.S)
    return found.group(1) if found else None


def demote_the_isv_admin() -> None:
    Membership.objects.filter(account__account_id=PARTNER.account_id, user__email="staff@isv.example").update(
        is_admin=False)


def test_the_admin_post_records_the_client_calls_no_docusign_and_shows_its_user_being_created(staff, queued):
    calls = RequestLog.objects.count()

    response = staff.post(PROVISION, {"name": "India Optics", "environment": "sandbox"})

    assert RequestLog.objects.count() == calls  # not a JWT grant, not a profile, not a user: nothing asked DocuSign
    organization = ClientOrganization.objects.get(slug="india-optics")
    assert response.status_code == 302 and response["Location"].endswith(f"/{organization.pk}/change/")
    assert organization.is_hosted and organization.account_id == PARTNER.account_id
    assert not SystemUser.objects.filter(organization=organization).exists()
    assert not members("docusign+india-optics@isv.example")
    assert AuditEvent.objects.get(action="organization.provision", organization=organization).after["system_user"] is None
    staff_pk = AuditEvent.objects.get(action="organization.provision").actor_id
    assert queued == [(organization.pk, staff_pk)]  # ids only: no name, email or token in the message
    assert hosted_state(staff, organization) == ("Its DocuSign user is being created in the ISV account: this page shows "
                                                 "it in a minute.")
    health = staff.get(f"/admin/tenants/clientorganization/{organization.pk}/health/").content.decode()
    assert "Its DocuSign user is being created in the ISV account" in health
    assert "No system user is recorded" not in health


def test_the_checklist_tells_the_client_its_user_is_being_created(staff, queued):
    staff.post(PROVISION, {"name": "Kilo Kitchens", "environment": "sandbox"})
    organization = ClientOrganization.objects.get(slug="kilo-kitchens")
    client = Client()
    client.force_login(factories.client_admin("kilo-admin", organization))

    page = client.get(f"/onboarding/{organization.slug}/").content.decode()

    assert "Your DocuSign user is being created in the ISV&#x27;s DocuSign account" in page


def test_the_task_creates_the_user_once_and_a_second_run_records_nothing(staff, queued, eager_celery):
    staff.post(PROVISION, {"name": "Lima Labs", "environment": "sandbox"})
    organization = ClientOrganization.objects.get(slug="lima-labs")

    provision_hosted_system_user.apply(args=queued[0]).get()

    (membership,) = members("docusign+lima-labs@isv.example")
    system_user = SystemUser.objects.get(organization=organization)
    assert membership.user.user_id == system_user.user_id and not membership.is_admin
    assert AuditEvent.objects.filter(action="system_user.create", organization=organization).count() == 1
    # The consent check it queued ran (eagerly): the ISV's organization admin consent covers the new user.
    assert system_user.consent_status == ConsentStatus.GRANTED, system_user.last_error
    audit_rows = AuditEvent.objects.count()

    provision_hosted_system_user.apply(args=queued[0]).get()

    assert len(members("docusign+lima-labs@isv.example")) == 1
    assert AuditEvent.objects.count() == audit_rows  # no second creation, no consent check queued again
    assert hosted_state(staff, organization) is None


def test_a_user_another_run_created_meanwhile_is_found_not_duplicated(isv_account, monkeypatch):
    """Two runs at once: both list no user, one creates it, DocuSign refuses the other's, which finds the first's."""
    from docusign_integration.hosting.provisioning import hosted_client_provision

    organization = hosted_client_provision(acting_user=None, name="Mike Motors", environment="sandbox")
    real_find, listings = esign_users.find_user_by_email, []

    def find(*args, **kwargs):  # the first listing was made before the other run's user existed
        listings.append(args)
        return None if len(listings) == 1 else real_find(*args, **kwargs)

    monkeypatch.setattr(esign_users, "find_user_by_email", find)

    provision_hosted_system_user.apply(args=(organization.pk,)).get()

    (membership,) = members("docusign+mike-motors@isv.example")
    assert len(listings) == 2
    assert SystemUser.objects.get(organization=organization).user_id == membership.user.user_id
    assert ClientOrganization.objects.get(pk=organization.pk).provisioning_error == ""


def test_a_transient_error_is_retried_and_the_user_made_once(staff, queued, sandbox, settings, fast_http):  # noqa: F811
    settings.DOCUSIGN_HTTP_MAX_TRIES = 1  # the task's retry, not the HTTP client's, must meet the 503
    staff.post(PROVISION, {"name": "November Nets", "environment": "sandbox"})
    organization = ClientOrganization.objects.get(slug="november-nets")
    add_fault(sandbox, r"/users$", "503")

    result = provision_hosted_system_user.apply(args=queued[0])

    assert result.successful(), result.traceback
    assert RequestLog.objects.filter(path__endswith="/users", status=503).count() == 1
    assert len(members("docusign+november-nets@isv.example")) == 1
    assert SystemUser.objects.filter(organization=organization).exists()
    assert ClientOrganization.objects.get(pk=organization.pk).provisioning_error == ""
    assert not FailedTask.objects.exists()


def test_a_permanent_failure_is_shown_in_words_and_left_as_a_dead_letter(staff, queued):
    staff.post(PROVISION, {"name": "Oscar Optics", "environment": "sandbox"})
    organization = ClientOrganization.objects.get(slug="oscar-optics")
    demote_the_isv_admin()

    result = provision_hosted_system_user.apply(args=queued[0])

    assert result.failed()
    organization.refresh_from_db()
    assert "is not an administrator of the ISV account" in organization.provisioning_error
    assert "provision the client again" in organization.provisioning_error
    assert not members("docusign+oscar-optics@isv.example")
    assert AuditEvent.objects.filter(action="organization.provisioning_failed", organization=organization).exists()
    letter = FailedTask.objects.get()
    assert letter.task_name == provision_hosted_system_user.name and letter.args == list(queued[0])
    assert hosted_state(staff, organization).startswith(
        "Creating its DocuSign user in the ISV account failed: The ISV&#x27;s administrator system user")
    health = staff.get(f"/admin/tenants/clientorganization/{organization.pk}/health/").content.decode()
    assert "is not an administrator of the ISV account" in health
    client = Client()
    client.force_login(factories.client_admin("oscar-admin", organization))
    checklist = client.get(f"/onboarding/{organization.slug}/").content.decode()
    assert "could not be created in the ISV&#x27;s DocuSign account yet" in checklist
    assert "administrator system user" not in checklist  # the ISV's business, not the client's


def test_provisioning_again_requeues_and_the_next_run_makes_the_user(staff, queued):
    staff.post(PROVISION, {"name": "Papa Pets", "environment": "sandbox"})
    organization = ClientOrganization.objects.get(slug="papa-pets")
    demote_the_isv_admin()
    provision_hosted_system_user.apply(args=queued[0])
    Membership.objects.filter(account__account_id=PARTNER.account_id, user__email="staff@isv.example").update(
        is_admin=True)
    calls = RequestLog.objects.count()

    staff.post(PROVISION, {"name": "Papa Pets", "slug": "papa-pets", "environment": "sandbox"})  # "Provision again"

    assert RequestLog.objects.count() == calls
    assert queued[1] == queued[0] and ClientOrganization.objects.filter(slug="papa-pets").count() == 1
    organization.refresh_from_db()
    assert organization.provisioning_error == ""  # being created again
    assert AuditEvent.objects.filter(action="organization.provision_again", organization=organization).exists()
    provision_hosted_system_user.apply(args=queued[1]).get()
    assert len(members("docusign+papa-pets@isv.example")) == 1
    assert SystemUser.objects.filter(organization=organization).exists()


def test_the_organization_page_offers_provision_again_for_a_hosted_client(staff, queued):
    staff.post(PROVISION, {"name": "Quebec Quilts", "environment": "sandbox"})
    organization = ClientOrganization.objects.get(slug="quebec-quilts")

    page = staff.get(f"/admin/tenants/clientorganization/{organization.pk}/change/").content.decode()

    assert f'action="{PROVISION}"' in page and 'value="quebec-quilts"' in page and "Provision again" in page


def test_a_consent_check_for_a_hosted_client_without_its_user_yet_calls_nobody(staff, queued, eager_celery):
    staff.post(PROVISION, {"name": "Romeo Rides", "environment": "sandbox"})
    organization = ClientOrganization.objects.get(slug="romeo-rides")
    calls = RequestLog.objects.count()

    result = check_consent_task.apply(args=(organization.pk,))

    assert result.successful(), result.traceback
    assert RequestLog.objects.count() == calls and not FailedTask.objects.exists()


def test_the_command_waits_for_the_outcome_and_a_failure_is_said_and_kept(isv_account):
    demote_the_isv_admin()

    with pytest.raises(CommandError, match="is not an administrator of the ISV account"):
        call_command("provision_client", "Sierra Sails", "--environment", "sandbox", "--hosted", stdout=io.StringIO())

    organization = ClientOrganization.objects.get(slug="sierra-sails")
    assert "is not an administrator" in organization.provisioning_error
    Membership.objects.filter(account__account_id=PARTNER.account_id, user__email="staff@isv.example").update(
        is_admin=True)
    out = io.StringIO()
    call_command("provision_client", "Sierra Sails", "--environment", "sandbox", "--hosted", stdout=out)
    organization.refresh_from_db()
    assert organization.provisioning_error == ""
    assert "Its system user in the ISV account: docusign+sierra-sails@isv.example" in out.getvalue()
    assert len(members("docusign+sierra-sails@isv.example")) == 1


def test_the_task_takes_ids_only_and_skips_an_offboarded_client(staff, queued):
    staff.post(PROVISION, {"name": "Tango Tools", "environment": "sandbox"})
    organization = ClientOrganization.objects.get(slug="tango-tools")
    call_command("offboard_client", organization.slug, "--reason", "never started", stdout=io.StringIO())
    calls = RequestLog.objects.count()

    provision_hosted_system_user.apply(args=queued[0]).get()

    assert all(isinstance(arg, int) for arg in queued[0])
    assert RequestLog.objects.count() == calls
    assert not SystemUser.objects.filter(organization=organization).exists()
