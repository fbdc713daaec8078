"""Named write operations on invitations: sending one (signed, expiring, single-use link), accepting it, and staff
withdrawing one or sending it again (a new link; the old one stops working).

Like every service (tenants/services.py): atomic, keyword-only `acting_user`, one audit row per change, the email
only after commit.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from tenants import audit
from tenants.models import (
    ClientMembership,
    ClientOrganization,
    Invitation,
    MembershipRole,
    OnboardingStatus,
)

INVITATION_LIFETIME = timedelta(days=7)


def invitation_send(*, acting_user: User | None, organization: ClientOrganization, email: str, role: str) -> Invitation:
    """Invite someone by email to the organization's onboarding pages with a signed, expiring, single-use link."""
    email = email.strip()
    errors: dict[str, str] = {}
    if organization.offboarded_at is not None:
        errors["email"] = f"{organization.name} is offboarded: reactivate it before inviting anyone."
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = "Enter the email address of the person to invite."
    if role not in MembershipRole.values:
        errors["role"] = f"Choose a role: {', '.join(MembershipRole.values)}."
    if "email" not in errors:
        errors.update(_already_invited(organization, email))
    if errors:
        raise ValidationError(errors)

    token = Invitation.sign(secrets.token_urlsafe(32))
    with transaction.atomic():
        invitation = Invitation.objects.create(
            organization=organization, email=email, role=role, token_hash=Invitation.hash_token(token),
            expires_at=timezone.now() + INVITATION_LIFETIME, invited_by=acting_user if acting_user else None,
        )
        if organization.onboarding_status == OnboardingStatus.PROVISIONED:
            ClientOrganization.objects.filter(pk=organization.pk).update(onboarding_status=OnboardingStatus.INVITED)
            organization.onboarding_status = OnboardingStatus.INVITED
        audit.record(actor=acting_user, action="invitation.send", organization=organization, target=invitation,
                     after=audit.snapshot(invitation, ("email", "role", "expires_at")))
        # The token lives only in this closure and the email: never in a task argument or a log line.
        transaction.on_commit(lambda: _email_invitation(invitation, token))
    return invitation


def _already_invited(organization: ClientOrganization, email: str) -> dict[str, str]:
    """A member, or a pending invitation, with this email in any case: say so instead of inviting twice."""
    member = (ClientMembership.objects.filter(organization=organization, user__email__iexact=email)
              .select_related("user").first())
    if member is not None:
        return {"email": f"{member.user.email} is already a member of {organization.name} "
                         f"({member.get_role_display().lower()}): there is no need to invite them again."}
    pending = (Invitation.objects.filter(organization=organization, email__iexact=email, accepted_at__isnull=True,
                                         revoked_at__isnull=True, expires_at__gt=timezone.now()).first())
    if pending is not None:
        return {"email": f"An invitation to {pending.email} is pending already (it expires on "
                         f"{pending.expires_at:%Y-%m-%d}); resend or revoke it from the organization's page."}
    return {}


def invitation_accept_url(token: str) -> str:
    """The absolute accept link. The page belongs to onboarding; fall back to its documented path until it exists."""
    try:
        path = reverse("onboarding:invitation_accept", args=[token])
    except NoReverseMatch:
        path = f"/onboarding/invitations/{token}/"
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def _email_invitation(invitation: Invitation, token: str) -> None:
    organization = invitation.organization
    send_mail(
        subject=f"You are invited to connect {organization.name} to DocuSign",
        message=(
            f"Hello,\n\nYou are invited to set up DocuSign eSignature for {organization.name} in our partner portal.\n"
            f"Open this link to accept (it works once and expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC):\n\n"
            f"{invitation_accept_url(token)}\n"
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )


class InvitationUnusable(Exception):
    """The invitation cannot be accepted (any more); `message` says why in words for the invitee."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


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


def invitation_revoke(*, acting_user: User | None, invitation: Invitation) -> Invitation:
    """Withdraw a pending invitation: its link then shows "withdrawn". An accepted one cannot be withdrawn."""
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().select_related("organization").get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise ValidationError(f"The invitation to {locked.email} was accepted already; remove the membership instead.")
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
            audit.record(actor=acting_user, action="invitation.revoke", organization=locked.organization,
                         target=locked, after={"email": locked.email, "revoked_at": locked.revoked_at})
    return locked


def invitation_resend(*, acting_user: User | None, invitation: Invitation) -> Invitation:
    """Send a new invitation to the same email and role; the old link is withdrawn first (one live link per person)."""
    with transaction.atomic():
        old = invitation_revoke(acting_user=acting_user, invitation=invitation)
        return invitation_send(acting_user=acting_user, organization=old.organization, email=old.email, role=old.role)
