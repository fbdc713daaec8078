"""The staff admin for client organizations: constant query cost, least privilege, actions that go through services."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tenants.models import AuditEvent, ClientMembership, ClientOrganization, ConsentStatus, MembershipRole
from tests import factories

CHANGELIST = "/admin/tenants/clientorganization/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def changelist_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(CHANGELIST).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_the_changelist_costs_the_same_number_of_queries_for_3_and_30_organizations():
    client = signed_in(factories.isv_staff())
    for i in range(3):
        factories.organization(f"Client {i}", account_id=str(uuid.uuid4()))
    few = changelist_queries(client)
    for i in range(3, 30):
        factories.organization(f"Client {i}", account_id=str(uuid.uuid4()))

    assert changelist_queries(client) == few


@pytest.mark.django_db
def test_staff_without_permission_get_403_and_client_admins_never_reach_the_admin():
    people = factories.personas()

    assert signed_in(factories.isv_staff("intern", permissions=False)).get(CHANGELIST).status_code == 403
    assert signed_in(people.admin_a).get(CHANGELIST).status_code == 302  # to the admin's sign-in page
    assert signed_in(people.staff).get(CHANGELIST).status_code == 200


@pytest.mark.django_db
def test_the_audit_log_is_read_only_even_for_staff_with_every_permission():
    staff = factories.isv_staff()
    factories.organization("Acme")
    event = AuditEvent.objects.get()
    client = signed_in(staff)

    assert client.get("/admin/tenants/auditevent/").status_code == 200
    assert client.get("/admin/tenants/auditevent/add/").status_code == 403
    assert client.post(f"/admin/tenants/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_staff_provision_an_organization_from_the_admin_and_see_its_consent_links():
    client = signed_in(factories.isv_staff())

    response = client.post("/admin/tenants/clientorganization/add/", {
        "name": "Acme", "environment": "sandbox", "system_user_id": str(uuid.uuid4()),
        "system_user_email": "system@acme.example", "account_id": "", "slug": "",
    })

    organization = ClientOrganization.objects.get()
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "/docusign/consent/acme/individual/" in page and "/docusign/consent/acme/admin/" in page
    assert "claimed" in page  # the prerequisites of organization admin consent, in words
    assert AuditEvent.objects.filter(organization=organization, action="organization.provision").exists()


@pytest.mark.django_db
def test_bad_provisioning_input_is_shown_on_the_form_and_nothing_is_stored():
    client = signed_in(factories.isv_staff())

    response = client.post("/admin/tenants/clientorganization/add/", {
        "name": "Acme", "environment": "sandbox", "system_user_id": "system@acme.example",
        "system_user_email": "system@acme.example",
    })

    assert response.status_code == 200
    assert "must be the DocuSign user&#x27;s GUID" in response.content.decode()
    assert not ClientOrganization.objects.exists()


@pytest.mark.django_db
def test_consent_can_be_started_only_for_organizations_the_person_may_act_for():
    people = factories.personas()
    member = factories.user("member-a")
    ClientMembership.objects.create(user=member, organization=people.org_a, role=MembershipRole.MEMBER)
    url = f"/docusign/consent/{people.org_a.slug}/individual/"

    assert signed_in(people.admin_b).get(url).status_code == 404
    assert signed_in(people.admin_b).get("/docusign/consent/no-such-org/individual/").status_code == 404
    assert signed_in(member).get(url).status_code == 403
    started = signed_in(people.admin_a).get(url)
    assert started.status_code == 302 and "/oauth/auth?response_type=code&scope=signature%20impersonation" in started["Location"]


@pytest.mark.usefixtures("eager_celery")
def test_the_check_consent_action_checks_each_selected_organization_in_the_background(sandbox):
    seeded = sandbox.user("system@acme.example")
    organization = factories.organization("Acme", system_user_id=seeded["user_id"], system_user_email=seeded["email"])
    client = signed_in(factories.isv_staff())

    response = client.post(CHANGELIST, {"action": "check_consent", "_selected_action": [organization.pk]}, follow=True)

    assert "Consent checks queued for 1 organization" in response.content.decode()
    organization.system_user.refresh_from_db()
    assert organization.system_user.consent_status == ConsentStatus.REQUIRED


@pytest.mark.django_db
def test_staff_send_an_invitation_from_the_admin(mailoutbox, django_capture_on_commit_callbacks):
    organization = factories.organization("Acme")
    client = signed_in(factories.isv_staff())

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/tenants/clientorganization/{organization.pk}/invite/",
                               {"email": "cio@acme.example", "role": "admin"})

    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [["cio@acme.example"]]
