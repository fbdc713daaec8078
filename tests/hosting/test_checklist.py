"""A hosted client's checklist leaves out the ISV's steps, and their pages are 404 for it."""

from __future__ import annotations

import pytest
from django.test import Client

from tenants.models import ClientOrganization, Hosting, SystemUser
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def hosted_admin() -> tuple[Client, ClientOrganization]:
    organization = ClientOrganization.objects.create(name="Alpha", slug="alpha", hosting=Hosting.HOSTED,
                                                     account_id="e4c3f5d7-9a6b-4dbe-8f4a-000000000401")
    SystemUser.objects.create(organization=organization, user_id="a0000001-0000-4000-8000-0000000000aa",
                              email="docusign+alpha@isv.example")
    client = Client()
    client.force_login(factories.client_admin("admin-alpha", organization))
    return client, organization


def test_the_checklist_of_a_hosted_client_has_no_connect_or_setup_step(hosted_admin):
    client, _ = hosted_admin
    page = client.get("/onboarding/alpha/").content.decode()

    assert 'id="hosted-consent"' in page
    assert 'id="step-connect"' not in page
    assert 'id="step-account"' not in page
    assert "Grant individual consent" not in page
    assert "2. Send and sign documents" in page  # numbered as the client sees its steps: 1, 2 (it read 1, 5)


def test_connecting_and_choosing_an_account_are_404_for_a_hosted_client(hosted_admin):
    client, _ = hosted_admin
    assert client.post("/onboarding/alpha/connect/").status_code == 404
    assert client.get("/onboarding/alpha/account/").status_code == 404


def test_an_own_account_clients_checklist_keeps_every_step():
    organization = factories.organization("Own Co")
    client = Client()
    client.force_login(factories.client_admin("admin-own", organization))
    page = client.get(f"/onboarding/{organization.slug}/").content.decode()
    assert 'id="step-connect"' in page and 'id="step-account"' in page
    assert "5. Send and sign documents" in page
