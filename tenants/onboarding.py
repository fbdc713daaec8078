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

from docusign_integration.oauth.account_server import UserAccount, UserInfo
from tenants import audit
from tenants.models import ClientMembership, ClientOrganization, Invitation, MembershipRole, OnboardingStatus
from tenants.users import AuthenticatedRequest

logger = logging.getLogger(__name__)

ACCOUNT_FIELDS = ("account_id", "account_name", "base_uri", "organization_id", "onboarding_status")
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


def account_for_connection(organization: ClientOrganization, userinfo: UserInfo) -> UserAccount:
    """The account a new connection uses: the organization's own (which the user must reach), or the user's only one."""
    if organization.account_id:
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
    """Make `account` the organization's DocuSign account, or confirm it is the one already recorded.

    A different account than the recorded one is refused, and so is an account already linked to another
    organization (the unique constraint on environment and account id; the refusal is audited).
    """
    recorded = organization.account_id
    if recorded and recorded.lower() != account.account_id.lower():
        raise ValidationError(
            f"This organization already uses the DocuSign account {organization.account_name or recorded} ({recorded}). "
            "Choose that account; ISV staff can change it if it is wrong."
        )
    before = audit.snapshot(organization, ACCOUNT_FIELDS)
    organization.account_id = recorded or account.account_id
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
