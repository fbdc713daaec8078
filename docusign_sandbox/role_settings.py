"""What a member may do: their permission profile's AccountRoleSettings, by DocuSign's names.

The sandbox enforces the settings in ENFORCED (docs/sandbox.md "Permission profiles"); the rest of DocuSign's
AccountRoleSettings are refused when set, so a profile never claims a right the sandbox would not honour.
Reference: https://developers.docusign.com/docs/esign-rest-api/reference/accounts/accountpermissionprofiles/
"""

from __future__ import annotations

from .models import Account, Membership, PermissionProfile

API_ACCESS = "allowApiAccess"  # may call the REST API at all
ACCOUNT_WIDE = "allowApiAccessToAccount"  # may list and read every envelope of the account, not only their own
SENDING = "allowEnvelopeSending"  # may create and send envelopes
ON_BEHALF = "allowApiSendingOnBehalfOfOthers"
MANAGEMENT = "allowAccountManagement"  # an administrator: users, profiles, groups, brands, admin-only settings
ENFORCED = (API_ACCESS, ACCOUNT_WIDE, SENDING, ON_BEHALF, MANAGEMENT)

# DocuSign's three default profiles (docs/docusign.md §8); the ids are the sandbox's own. The Sender keeps
# account-wide access as the sandbox always gave it (whether DocuSign's default Sender has it is UNVERIFIED).
DEFAULT_PROFILES = {
    "DocuSign Viewer": ("10000001", {API_ACCESS: "false", ACCOUNT_WIDE: "false", SENDING: "false", ON_BEHALF: "false",
                                     MANAGEMENT: "false"}),
    "DocuSign Sender": ("10000002", {API_ACCESS: "true", ACCOUNT_WIDE: "true", SENDING: "true", ON_BEHALF: "false",
                                     MANAGEMENT: "false"}),
    "Account Administrator": ("10000003", {API_ACCESS: "true", ACCOUNT_WIDE: "true", SENDING: "true",
                                           ON_BEHALF: "true", MANAGEMENT: "true"}),
}


def ensure_default_profiles(account: Account) -> list[PermissionProfile]:
    """The account's profiles, DocuSign's three defaults created on first use."""
    profiles = list(PermissionProfile.objects.filter(account=account).order_by("pk"))
    missing = DEFAULT_PROFILES.keys() - {p.name for p in profiles}
    for name in sorted(missing, key=lambda n: DEFAULT_PROFILES[n][0]):
        profile_id, settings = DEFAULT_PROFILES[name]
        profiles.append(PermissionProfile.objects.get_or_create(
            account=account, name=name, defaults={"profile_id": profile_id, "settings": dict(settings)})[0])
    return sorted(profiles, key=lambda p: int(p.profile_id) if p.profile_id.isdigit() else 0)


def settings_of(membership: Membership) -> dict[str, str]:
    """The member's role settings; a profile that no longer exists grants nothing."""
    profile = PermissionProfile.objects.filter(account_id=membership.account_id,
                                               name=membership.permission_profile).first()
    if profile is None and membership.permission_profile in DEFAULT_PROFILES:
        return dict(DEFAULT_PROFILES[membership.permission_profile][1])
    return dict(profile.settings) if profile is not None else {}


def allows(settings: dict[str, str], name: str) -> bool:
    return str(settings.get(name, "false")).lower() == "true"
