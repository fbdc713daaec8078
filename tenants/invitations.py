"""Staff withdraw an invitation, or send it again (a new link; the old one stops working). Both audited."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tenants import audit, services
from tenants.models import Invitation


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
        return services.invitation_send(acting_user=acting_user, organization=old.organization, email=old.email,
                                        role=old.role)
