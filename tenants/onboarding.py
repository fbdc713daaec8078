"""Client-side onboarding: who may see which organization, accepting invitations, choosing the DocuSign account.

Every onboarding page loads its organization through `organization_for`, so a client admin sees and changes
only their own organization: other organizations' slugs give the same 404 as a nonexistent one (docs/security.md TI-1),
and members without the admin role get 403 on admin actions (docs/security.md TI-3). The write operations here are atomic and
each records an AuditEvent.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from docusign_integration.models.setup import AccountSetupState, SetupStatus
from docusign_integration.oauth import UserAccount, UserInfo
from tenants import audit
from tenants.models import (
    AccountSource,
    ClientMembership,
    ClientOrganization,
    Invitation,
    MembershipRole,
    OnboardingStatus,
    SystemUser,
)
from tenants.users import AuthenticatedRequest

logger = logging.getLogger(__name__)

ACCOUNT_FIELDS = ("account_id", "account_name", "base_uri", "organization_id", "onboarding_status", "account_source")
# Only these settle the account: consent's recorded default is the system user's, not the client's choice.
CHOSEN_SOURCES = (AccountSource.STAFF, AccountSource.CLIENT)
_STATUS_ORDER = list(OnboardingStatus.values)


class InvitationUnusable(Exception):
    """The invitation cannot be accepted (any more); `message` says why in words for the invitee."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


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


def invitation_status(invitation: Invitation | None) -> str | None:
    """Why `invitation` cannot be accepted, in words for the invitee, or None when it can."""
    if invitation is None:
        return "This invitation link is not valid. Check that you copied the whole link from the email."
    if invitation.accepted_at is not None:
        return "This invitation has already been used. Sign in with the password you chose."
    if invitation.revoked_at is not None:
        return "This invitation was withdrawn. Ask your contact at the ISV to send a new one."
    if invitation.is_expired():
        return "This invitation has expired. Ask your contact at the ISV to send a new one."
    return None


def invitation_accept(*, acting_user: User | None, invitation: Invitation,
                      password: str | None = None) -> ClientMembership:
    """Accept `invitation` once: as `acting_user` (signed in, same email) or as a new portal user with `password`.

    Raises InvitationUnusable when it was used or expired meanwhile; nothing is changed then.
    """
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().select_related("organization").get(pk=invitation.pk)
        problem = invitation_status(locked)
        if problem:
            raise InvitationUnusable(problem)
        user = acting_user
        if user is None:
            if not password:
                raise ValueError("A new portal user needs a password.")
            user = get_user_model().objects.create_user(username=locked.email.lower(), email=locked.email, password=password)
        elif user.email.lower() != locked.email.lower():
            raise InvitationUnusable(f"This invitation was sent to {locked.email}. Sign out, then open the link again.")
        membership, created = ClientMembership.objects.get_or_create(
            user=user, organization=locked.organization, defaults={"role": locked.role},
        )
        before = None if created else {"role": membership.role}
        if not created and locked.role == MembershipRole.ADMIN and membership.role != MembershipRole.ADMIN:
            membership.role = MembershipRole.ADMIN  # an invitation never lowers an existing role
            membership.save(update_fields=["role"])
        locked.accepted_at = timezone.now()
        locked.accepted_by = user
        locked.save(update_fields=["accepted_at", "accepted_by"])
        audit.record(actor=user, action="invitation.accept", organization=locked.organization, target=locked,
                     before=before, after={"email": locked.email, "role": membership.role})
    return membership


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


def account_choose(*, acting_user: User, organization: ClientOrganization,
                   account: UserAccount) -> ClientOrganization:
    """Make `account` the organization's DocuSign account: the client admin's choice.

    It replaces an account consent recorded (the system user's default) or the client's earlier choice; a different
    account than the dedicated one ISV staff set is refused, and so is an account already linked to another
    organization (the unique constraint on environment and account id; the refusal is audited).
    """
    recorded = organization.account_id
    if (recorded and organization.account_source == AccountSource.STAFF
            and recorded.lower() != account.account_id.lower()):
        raise ValidationError(
            f"This organization already uses the DocuSign account {organization.account_name or recorded} ({recorded}). "
            "Choose that account; ISV staff can change it if it is wrong."
        )
    before = audit.snapshot(organization, ACCOUNT_FIELDS)
    if organization.account_source != AccountSource.STAFF:
        organization.account_source = AccountSource.CLIENT
    if (recorded or "").lower() != account.account_id.lower():
        organization.organization_id = None  # the old account's DocuSign organization says nothing about the new one
    organization.account_id = account.account_id
    organization.account_name = account.account_name
    organization.base_uri = account.base_uri
    organization.organization_id = organization.organization_id or account.organization_id
    if _STATUS_ORDER.index(organization.onboarding_status) < _STATUS_ORDER.index(OnboardingStatus.CONNECTED):
        organization.onboarding_status = OnboardingStatus.CONNECTED
    old, new = audit.changed(before, audit.snapshot(organization, ACCOUNT_FIELDS))
    if not new:
        return organization
    try:
        with transaction.atomic():
            organization.save(update_fields=[*ACCOUNT_FIELDS, "updated"])
            if "account_id" in new:  # another account: its setup is not known until it is checked or pushed
                AccountSetupState.objects.filter(organization=organization).update(status=SetupStatus.UNKNOWN)
            audit.record(actor=acting_user, action="account.choose", organization=organization, target=organization,
                         before=old, after=new)
    except IntegrityError:
        organization.refresh_from_db()
        audit.record(actor=acting_user, action="account.link_refused", organization=organization, target=organization,
                     after={"account_id": account.account_id, "reason": "linked to another organization"})
        raise ValidationError(
            f"The DocuSign account {account.account_name} ({account.account_id}) is already linked to another client "
            "organization. Choose another account, or contact the ISV's staff."
        ) from None
    return organization
