"""Organizations whose system user has consented, and a look at the Connect configurations DocuSign (the sandbox) holds."""

from __future__ import annotations

import pytest

from docusign_integration.client import http
from docusign_integration.consent.system_user import consent_verify
from docusign_sandbox.models import Account, ConnectConfiguration, Consent, IntegrationKey, User
from tenants.models import ClientOrganization
from tests import factories


def consented_organization(sandbox, email: str, name: str) -> ClientOrganization:
    """An organization whose system user is the seeded `email`, with individual consent given and verified."""
    seeded = sandbox.user(email)
    organization = factories.organization(name, system_user_id=seeded["user_id"], system_user_email=email)
    Consent.objects.get_or_create(user=User.objects.get(email=email),
                                  integration_key=IntegrationKey.objects.get(client_id=sandbox.seed["integration_key"]),
                                  defaults={"scopes": "signature impersonation"})
    consent_verify(acting_user=None, organization=organization)
    organization.refresh_from_db()
    assert organization.account_id, "consent verification did not record the account"
    return organization


def configurations(organization: ClientOrganization) -> list[dict]:
    """The organization's account's Connect configurations as the sandbox stores them (connectId included)."""
    return [{"connectId": c.connect_id, **c.body}
            for c in ConnectConfiguration.objects.filter(account__account_id=organization.account_id).order_by("pk")]


def sandbox_account(organization: ClientOrganization) -> Account:
    return Account.objects.get(account_id=organization.account_id)


@pytest.fixture
def acme(sandbox) -> ClientOrganization:
    """Acme Corp; its system user admin@acme.example is an administrator of the account."""
    return consented_organization(sandbox, "admin@acme.example", "Acme")


@pytest.fixture
def initech(sandbox) -> ClientOrganization:
    """Initech; its system user sender@initech.example is not an administrator."""
    return consented_organization(sandbox, "sender@initech.example", "Initech")


@pytest.fixture
def sandbox(sandbox):
    """The root fixture, closing the portal's keep-alive connections first so no request thread outlives the server."""
    yield sandbox
    http.session.close()
