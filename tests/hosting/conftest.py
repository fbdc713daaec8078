"""The ISV account of the sandbox (its partner account), recorded in the portal, with the ISV's organization consent."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AbstractUser

from docusign_integration.consent.system_user import consent_verify
from docusign_integration.envelopes.sending import RecipientRequest, check_document, envelope_create_draft
from docusign_integration.hosting.provisioning import hosted_client_provision
from docusign_sandbox.consent import grant_organization
from docusign_sandbox.models import IntegrationKey, Organization
from docusign_sandbox.models import User as SandboxUser
from docusign_sandbox.seed import ISV_ORG_ID, PARTNER
from tenants.isv import isv_account_record
from tenants.models import ClientOrganization, ISVAccount
from tests import factories


@pytest.fixture
def isv_account(sandbox, settings) -> ISVAccount:
    """The ISV's admin grants organization consent once for isv.example; the portal records the partner account."""
    key = IntegrationKey.objects.get(client_id=settings.DOCUSIGN_INTEGRATION_KEY)
    grant_organization(Organization.objects.get(organization_id=ISV_ORG_ID), key, {"signature", "impersonation"},
                       granted_by=SandboxUser.objects.get(email="staff@isv.example"))
    return isv_account_record(acting_user=None, environment="sandbox", account_id=PARTNER.account_id,
                              base_uri=sandbox.site(PARTNER.account_id),
                              admin_user_id=sandbox.user("staff@isv.example")["user_id"])


@dataclass
class HostedClient:
    organization: ClientOrganization
    admin: AbstractUser


@pytest.fixture
def hosted_pair(isv_account) -> tuple[HostedClient, HostedClient]:
    """Two hosted clients in the ISV account, each with its own system user (consent verified) and client admin."""
    clients = []
    for name, username in (("Alpha Dental", "admin-alpha"), ("Bravo Dental", "admin-bravo")):
        organization = hosted_client_provision(acting_user=None, name=name, environment="sandbox")
        consent_verify(acting_user=None, organization=organization)
        organization.refresh_from_db()
        clients.append(HostedClient(organization, factories.client_admin(username, organization)))
    return clients[0], clients[1]


def send_draft(client: HostedClient, subject: str) -> str:
    """A draft created from the portal by the client's admin (as the client's system user); its DocuSign id."""
    document = check_document("Agreement.pdf", b"%PDF-1.4 agreement")
    envelope = envelope_create_draft(acting_user=client.admin, organization=client.organization, subject=subject,
                                     documents=[document], recipients=[RecipientRequest("Sam Signer", "sam@example.com")])
    return envelope.envelope_id
