"""Client-side onboarding: who may see which organization, and which DocuSign account a new connection uses.

Every onboarding page loads its organization through `organization_for`, so a client admin sees and changes
only their own organization: other organizations' slugs give the same 404 as a nonexistent one (docs/security.md TI-1),
and members without the admin role get 403 on admin actions (docs/security.md TI-3). Its writes (accepting an
invitation, choosing the account) are services in tenants/invitations.py and tenants/organizations.py.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from docusign_integration.oauth.account_server import UserAccount, UserInfo
from tenants.models import (
    AccountSource,
    ClientMembership,
    ClientOrganization,
    MembershipRole,
    SystemUser,
)
from tenants.users import AuthenticatedRequest

logger = logging.getLogger(__name__)

# Only these settle the account: consent's recorded default is the system user's, not the client's choice.
CHOSEN_SOURCES = (AccountSource.STAFF, AccountSource.CLIENT)
# A hosted client's system user is made in the background (docusign_integration/hosting/tasks.py).
HOSTED_USER_PENDING = "Its DocuSign user is being created in the ISV account: this page shows it in a minute."



def organization_for(request: AuthenticatedRequest, slug: str, role: str = MembershipRole.ADMIN) -> ClientOrganization:
    """The organization `slug` if the signed-in user is a member with `role` ("member" allows any member).

    404 when the user is not a member (the same as for a nonexistent slug), 403 when the role is too low.
    """
    membership = (ClientMembership.objects.select_related("organization")
                  .filter(user_id=request.user.pk, organization__slug=slug).first())
    return _check(membership, request.user, role, slug)


def membership_organization(user: User, *, organization_id: int | None, role: str) -> ClientOrganization:
    """Like `organization_for`, by organization id (for flows that carry the id in their state)."""
    membership = (ClientMembership.objects.select_related("organization")
                  .filter(user_id=user.pk, organization_id=organization_id).first())
    return _check(membership, user, role, organization_id)


def _check(membership: ClientMembership | None, user: User, role: str, ref: object) -> ClientOrganization:
    if membership is None:
        logger.warning("onboarding_access_denied reason=not_a_member user=%s organization=%s", user.pk, ref)
        raise Http404
    if role == MembershipRole.ADMIN and membership.role != MembershipRole.ADMIN:
        logger.warning("onboarding_access_denied reason=not_an_admin user=%s organization=%s", user.pk, ref)
        raise PermissionDenied
    return membership.organization


def account_is_chosen(organization: ClientOrganization) -> bool:
    """Whether staff or the client admin settled the account (consent's recorded default does not count)."""
    return bool(organization.account_id) and organization.account_source in CHOSEN_SOURCES


def account_conflict(organization: ClientOrganization, system_user: SystemUser | None) -> str:
    """Staff's warning when the client's chosen account is not the one consent found for the system user, else ""."""
    if system_user is None or not system_user.account_id or not organization.account_id:
        return ""
    if system_user.account_id.lower() == organization.account_id.lower():
        return ""
    return (f"The client chose the account {organization.account_name or organization.account_id} "
            f"({organization.account_id}), but consent found {system_user.account_id} for the system user "
            f"{system_user.email}. Check consent: the system user must reach the chosen account to send for it.")


def hosted_user_state(organization: ClientOrganization, system_user: SystemUser | None) -> str:
    """Staff's sentence while a hosted client's system user is being created, or why it could not be; else ""."""
    if not organization.is_hosted:
        return ""
    if organization.provisioning_error:
        done = "Provisioning it again" if system_user is not None else "Creating its DocuSign user in the ISV account"
        return f"{done} failed: {organization.provisioning_error}"
    return HOSTED_USER_PENDING if system_user is None else ""


def account_for_connection(organization: ClientOrganization, userinfo: UserInfo) -> UserAccount:
    """The account a new connection uses: the organization's chosen one (which the user must reach), or the user's only one."""
    if account_is_chosen(organization):
        for account in userinfo.accounts:
            if account.account_id.lower() == organization.account_id.lower():
                return account
        raise ValidationError(
            f"Your DocuSign user ({userinfo.email}) cannot reach this organization's DocuSign account "
            f"{organization.account_name or organization.account_id}. Connect as a user of that account, "
            "or ask your DocuSign administrator to add you to it."
        )
    if len(userinfo.accounts) == 1:
        return userinfo.accounts[0]
    if not userinfo.accounts:
        raise ValidationError("Your DocuSign user has no DocuSign account. Ask your DocuSign administrator to add you to one.")
    raise ValidationError("Your DocuSign user belongs to several accounts: choose the one this organization uses.")


