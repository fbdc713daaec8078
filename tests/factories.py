"""The test suite's personas and client organizations, made through the same services the product uses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Permission

from tenants import services
from tenants.models import ClientMembership, ClientOrganization, MembershipRole

PASSWORD = "correct-horse-battery-staple"


def user(username: str, **fields) -> AbstractUser:
    account = get_user_model().objects.create_user(username=username, email=f"{username}@example.com", password=PASSWORD,
                                                   **fields)
    return account


def isv_staff(username: str = "staff", *, permissions: bool = True) -> AbstractUser:
    """ISV staff: admin access with every permission on client organizations and the audit log (or none at all)."""
    staff = user(username, is_staff=True)
    if permissions:
        staff.user_permissions.set(Permission.objects.filter(content_type__app_label="tenants"))
    return staff


def organization(name: str, *, system_user_id: str | None = None, system_user_email: str | None = None,
                 account_id: str | None = None) -> ClientOrganization:
    return services.organization_provision(
        acting_user=None, name=name, environment="sandbox",
        system_user_id=system_user_id or str(uuid.uuid4()),
        system_user_email=system_user_email or f"system@{name.lower().replace(' ', '-')}.example",
        account_id=account_id,
    )


def client_admin(username: str, of: ClientOrganization) -> AbstractUser:
    person = user(username)
    ClientMembership.objects.create(user=person, organization=of, role=MembershipRole.ADMIN)
    return person


@dataclass
class Personas:
    staff: AbstractUser
    org_a: ClientOrganization
    admin_a: AbstractUser
    org_b: ClientOrganization
    admin_b: AbstractUser


def personas() -> Personas:
    """ISV staff, a client admin of organization A and a client admin of organization B (who must see nothing of A)."""
    org_a, org_b = organization("Organization A"), organization("Organization B")
    return Personas(staff=isv_staff(), org_a=org_a, admin_a=client_admin("admin-a", org_a), org_b=org_b,
                    admin_b=client_admin("admin-b", org_b))


def setup_done(organization: ClientOrganization) -> ClientOrganization:
    """The organization's "Setup DocuSign account" step done, as setup's own check records an account found in sync
    (audited `account_setup.check`), so it may send (docusign_integration.envelopes.sending.require_setup).

    Not by pushing: the push would put the portal's Connect configuration on the sandbox account, and the sandbox would
    then publish every envelope of the sending tests to the listener, which those tests drive themselves (by polling
    or by a Connect message they sign); and it needs a DocuSign administrator, which most seeded system users are not.
    """
    from docusign_integration.setup.account_setup import _record
    from docusign_integration.setup.models import SetupStatus

    _record(organization, acting_user=None, action="account_setup.check", status=SetupStatus.IN_SYNC, drift=[],
            last_error="")
    return organization
