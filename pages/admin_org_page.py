"""What the staff page of one client organization shows besides its fields: the account conflict, setup drift as a
table saying where each difference came from, the invitations, the buttons staff use for that client, and a hosted
client's system user while it is being created (or why it could not be)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from docusign_integration.setup.models import AccountSetupState, SetupProfile, SetupStatus
from pages.drift_words import describe
from tenants.models import ClientOrganization, Invitation, SystemUser
from tenants.onboarding import account_conflict, hosted_user_state

INVITATIONS_SHOWN = 20  # the newest; older ones are in the audit log
# The changelist's actions staff use most for one client, offered as buttons on its page.
CLIENT_ACTIONS = (("check_consent", "Check consent"), ("setup_docusign_account", "Setup DocuSign account"))


@dataclass(frozen=True)
class DriftRow:
    field: str
    meaning: str
    origin: str


def drift_rows(state: AccountSetupState | None, profile: SetupProfile) -> list[DriftRow]:
    """One row per drifted field. Staff editing the profile after the last push makes every account differ from
    it; otherwise the difference was made in DocuSign (someone edited the account there)."""
    if state is None or state.status != SetupStatus.DRIFTED:
        return []
    profile_changed = state.pushed_at is None or profile.updated > state.pushed_at
    origin = ("The setup profile changed since the last push (staff edited it): push to apply it."
              if profile_changed else "Changed in DocuSign since the last push (someone edited the account there).")
    return [DriftRow(field, describe(field), origin) for field in state.drift]


def invitation_state(invitation: Invitation) -> str:
    if invitation.accepted_at is not None:
        return "Accepted"
    if invitation.revoked_at is not None:
        return "Revoked"
    return "Expired" if invitation.expires_at <= timezone.now() else "Pending"


def organization_page_context(organization: ClientOrganization) -> dict[str, Any]:
    """A constant number of queries: system user, setup state, profile, invitations."""
    system_user = SystemUser.objects.filter(organization=organization).first()
    state = AccountSetupState.objects.filter(organization=organization).first()
    invitations = list(Invitation.objects.filter(organization=organization).select_related("accepted_by")
                       .order_by("-created")[:INVITATIONS_SHOWN])
    return {
        "client_actions": CLIENT_ACTIONS,
        "account_conflict": account_conflict(organization, system_user),
        "hosted_state": hosted_user_state(organization, system_user),
        "setup_state": state,
        "drift_rows": drift_rows(state, SetupProfile.load()),
        "invitations": [(invitation, invitation_state(invitation)) for invitation in invitations],
    }
