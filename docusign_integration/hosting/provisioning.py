"""Provisioning hosted clients: each gets its own non-admin system user in the ISV account (docs/docusign.md §10.1).

DocuSign is asked first and the portal's rows are written after, so a failure in between leaves at most a DocuSign
user that the next provisioning finds again by email: provisioning twice never makes two users.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from docusign_integration.client import users as esign_users
from docusign_integration.client.rest import AccountRef
from docusign_integration.oauth import tokens
from tenants import audit, offboarding, organizations, system_users
from tenants.models import ClientOrganization, ISVAccount, SystemUser

# The hosted system user's profile: sends and manages its own envelopes through the API, nothing account-wide
# (without allowApiAccessToAccount DocuSign shows it only the envelopes it sent), and it is not an administrator.
PROFILE_SETTINGS = {
    "allowApiAccess": "true",
    "allowEnvelopeSending": "true",
    "allowApiAccessToAccount": "false",
    "allowApiSendingOnBehalfOfOthers": "false",
    "allowAccountManagement": "false",
}


class HostingUnavailable(ValidationError):
    """No ISV account is recorded for the environment."""


@dataclass(frozen=True)
class ISVAdmin:
    """The ISV account and a bearer token of its administrator system user (JWT grant)."""

    isv_account: ISVAccount
    ref: AccountRef
    bearer: str


def isv_admin(environment: str) -> ISVAdmin:
    isv_account = ISVAccount.objects.filter(environment=environment).first()
    if isv_account is None:
        raise HostingUnavailable({"environment": f"No ISV account is recorded for {environment}: run "
                                                 f"`manage.py setup_isv_account` first."})
    ref = AccountRef(environment=environment, account_id=isv_account.account_id, base_uri=isv_account.base_uri)
    return ISVAdmin(isv_account, ref, tokens.get_impersonation_token(environment, isv_account.admin_user_id))


def permission_profile_ensure(*, acting_user: User | None, admin: ISVAdmin) -> str:
    """The portal's profile id in the ISV account, created, or corrected when someone widened it there."""
    name = admin.isv_account.permission_profile_name
    profiles = esign_users.list_permission_profiles(admin.ref, bearer=admin.bearer)
    match = next((p for p in profiles if str(p.get("permissionProfileName", "")).lower() == name.lower()), None)
    if match is None:
        profile_id = str(esign_users.create_permission_profile(admin.ref, name, PROFILE_SETTINGS,
                                                               bearer=admin.bearer)["permissionProfileId"])
        audit.record(actor=acting_user, action="isv.permission_profile_create", organization=None, target=name,
                     after={"permission_profile_id": profile_id, "settings": PROFILE_SETTINGS})
        return profile_id
    profile_id = str(match.get("permissionProfileId", ""))
    settings = match.get("settings")
    current = settings if isinstance(settings, dict) else {}
    wrong = {k: str(current.get(k, "false")).lower() for k, v in PROFILE_SETTINGS.items()
             if str(current.get(k, "false")).lower() != v}
    if wrong:
        esign_users.update_permission_profile(admin.ref, profile_id, name, PROFILE_SETTINGS, bearer=admin.bearer)
        audit.record(actor=acting_user, action="isv.permission_profile_correct", organization=None, target=name,
                     before=wrong, after={k: PROFILE_SETTINGS[k] for k in wrong})
    return profile_id


def system_user_ensure(*, admin: ISVAdmin, name: str, email: str, profile_id: str) -> str:
    """The DocuSign user id of the hosted system user with `email`: found (reopened, profile set) or created."""
    existing = esign_users.find_user_by_email(admin.ref, email, bearer=admin.bearer)
    if existing is None:
        created = esign_users.create_user(admin.ref, user_name=name, email=email, profile_id=profile_id,
                                          bearer=admin.bearer)
        return str(created["userId"]).lower()
    changes = {}
    if str(existing.get("userStatus", "")).lower() == "closed":
        changes["userStatus"] = "Active"
    if str(existing.get("permissionProfileId", "")) != profile_id:
        changes["permissionProfileId"] = profile_id
    if changes:
        esign_users.update_user(admin.ref, str(existing["userId"]), changes, bearer=admin.bearer)
    return str(existing["userId"]).lower()


def hosted_client_provision(*, acting_user: User | None, name: str, environment: str,
                            slug: str | None = None) -> ClientOrganization:
    """Create (or provision again) a hosted client and its system user in the ISV account; audited.

    Provisioning an existing hosted client again reuses its DocuSign user (found by email) and records it if it
    changed. Bad input raises ValidationError before DocuSign is asked anything.
    """
    name = name.strip()
    slug = slugify(slug or name)[:50]
    if not name or not slug:
        raise ValidationError({"name": "Enter the client organization's name."})
    existing = ClientOrganization.objects.filter(slug=slug).first()
    if existing is not None and (not existing.is_hosted or existing.environment != environment):
        raise ValidationError({"slug": f"The slug {slug!r} is taken by a client organization that is not hosted in "
                                       f"{environment}; choose another one."})
    admin = isv_admin(environment)
    email = admin.isv_account.system_user_email(slug)
    profile_id = permission_profile_ensure(acting_user=acting_user, admin=admin)
    user_id = system_user_ensure(admin=admin, name=name, email=email, profile_id=profile_id)
    if existing is None:
        return organizations.organization_provision(acting_user=acting_user, name=name, environment=environment,
                                               system_user_id=user_id, system_user_email=email, slug=slug,
                                               isv_account=admin.isv_account)
    recorded = SystemUser.objects.filter(organization=existing).first()
    if recorded is None or recorded.user_id != user_id or recorded.email != email:
        if recorded is None:
            with transaction.atomic():
                SystemUser.objects.create(organization=existing, user_id=user_id, email=email)
                audit.record(actor=acting_user, action="system_user.update", organization=existing, target=email,
                             after={"user_id": user_id, "email": email})
        else:
            system_users.system_user_update(acting_user=acting_user, organization=existing, user_id=user_id, email=email)
    return existing


def hosted_system_user_close(*, acting_user: User | None, organization: ClientOrganization) -> bool:
    """Close an offboarded hosted client's system user in the ISV account; False when there is none to close."""
    system_user = SystemUser.objects.filter(organization=organization).first()
    if not organization.is_hosted or system_user is None:
        return False
    admin = isv_admin(organization.environment)
    existing = esign_users.find_user_by_email(admin.ref, system_user.email, bearer=admin.bearer)
    if existing is None or str(existing.get("userStatus", "")).lower() == "closed":
        return False
    esign_users.close_user(admin.ref, system_user.user_id, bearer=admin.bearer)
    audit.record(actor=acting_user, action="system_user.close", organization=organization, target=system_user.email,
                 before={"user_status": str(existing.get("userStatus", ""))}, after={"user_status": "Closed"})
    return True


def hosted_client_offboard(*, acting_user: User | None, organization: ClientOrganization, reason: str) -> bool:
    """Offboard a client (tenants.services.organization_offboard); a hosted one's system user is closed after commit."""
    changed = offboarding.organization_offboard(acting_user=acting_user, organization=organization, reason=reason)
    if changed and organization.is_hosted:
        from docusign_integration.hosting.tasks import close_hosted_system_user  # the task module imports this one

        transaction.on_commit(lambda: close_hosted_system_user.delay(organization.pk))
    return changed
