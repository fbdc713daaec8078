"""The consent callback checks again that the signed-in person may still give consent for the organization.

Between the consent link and DocuSign's redirect back, a client admin can be demoted or removed and staff can lose
the permission: the callback then refuses with a sentence, sends DocuSign no token request and records nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from tenants import services
from tenants.models import AuditEvent, ClientMembership, ConsentStatus, MembershipRole, SystemUser
from tests import factories
from tests.onboarding.conftest import DocuSignBrowser, token_requests

pytestmark = pytest.mark.usefixtures("sandbox")

SYSTEM_USER = "system@acme.example"


@pytest.fixture
def acme(sandbox):
    """A client organization whose system user is a real sandbox user, so an unchecked callback would succeed."""
    seeded = sandbox.user(SYSTEM_USER)
    return factories.organization("Acme", system_user_id=seeded["user_id"], system_user_email=seeded["email"])


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def approved_on_docusign(sandbox, client: Client, slug: str) -> dict[str, str]:
    """Start individual consent in the portal and approve it on DocuSign's page as the system user."""
    start = client.get(f"/docusign/consent/{slug}/individual/")
    assert start.status_code == 302, start.status_code
    return DocuSignBrowser(sandbox).approve(start["Location"], SYSTEM_USER)


def assert_refused_and_nothing_recorded(response, organization, before: int) -> None:
    assert response.status_code == 403
    assert b"may no longer give consent" in response.content
    assert token_requests() == before
    assert SystemUser.objects.get(organization=organization).consent_status == ConsentStatus.UNKNOWN
    assert not AuditEvent.objects.filter(organization=organization, action="consent.check").exists()


def demote(person, organization) -> None:
    ClientMembership.objects.filter(user=person, organization=organization).update(role=MembershipRole.MEMBER)


def remove(person, organization) -> None:
    ClientMembership.objects.filter(user=person, organization=organization).delete()


@pytest.mark.parametrize("lose_the_right", [demote, remove], ids=["demoted", "removed"])
def test_a_client_admin_who_lost_the_admin_role_since_the_start_is_refused_without_a_token_request(
        sandbox, acme, lose_the_right: Callable):
    person = factories.client_admin("admin-acme", acme)
    client = signed_in(person)
    query = approved_on_docusign(sandbox, client, acme.slug)
    lose_the_right(person, acme)
    before = token_requests()

    assert_refused_and_nothing_recorded(client.get("/docusign/callback/", query), acme, before)


def test_staff_who_lost_the_change_permission_since_the_start_are_refused_without_a_token_request(sandbox, acme):
    staff = factories.isv_staff("staff-acme")
    client = signed_in(staff)
    query = approved_on_docusign(sandbox, client, acme.slug)
    staff.user_permissions.remove(Permission.objects.get(codename="change_clientorganization"))
    before = token_requests()

    assert_refused_and_nothing_recorded(client.get("/docusign/callback/", query), acme, before)


def test_a_user_no_longer_staff_is_refused_without_a_token_request(sandbox, acme):
    staff = factories.isv_staff("staff-acme")
    client = signed_in(staff)
    query = approved_on_docusign(sandbox, client, acme.slug)
    type(staff).objects.filter(pk=staff.pk).update(is_staff=False)
    before = token_requests()

    assert_refused_and_nothing_recorded(client.get("/docusign/callback/", query), acme, before)


def test_an_organization_offboarded_since_the_start_gets_no_token_request(sandbox, acme):
    client = signed_in(factories.client_admin("admin-acme", acme))
    query = approved_on_docusign(sandbox, client, acme.slug)
    services.organization_offboard(acting_user=None, organization=acme, reason="The client left.")
    before = token_requests()

    response = client.get("/docusign/callback/", query)

    assert response.status_code in (400, 404)
    assert token_requests() == before
    assert SystemUser.objects.get(organization=acme).consent_status == ConsentStatus.UNKNOWN


def test_a_client_admin_who_still_is_one_records_consent(sandbox, acme):
    client = signed_in(factories.client_admin("admin-acme", acme))
    query = approved_on_docusign(sandbox, client, acme.slug)

    response = client.get("/docusign/callback/", query)

    assert response.status_code == 302 and response["Location"] == f"/onboarding/{acme.slug}/"
    assert SystemUser.objects.get(organization=acme).consent_status == ConsentStatus.GRANTED
