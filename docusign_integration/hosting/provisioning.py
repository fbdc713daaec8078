"""Provisioning hosted clients: each gets its own non-admin system user in the ISV account (docs/docusign.md §10.1).

Two steps. Staff's request records the organization with local checks only (`hosted_client_record`: no DocuSign
call), and a Celery task (hosting/tasks.py) then creates or finds its DocuSign user (`hosted_system_user_provision`)
and records it. DocuSign is asked first and the portal's rows are written after, so a failure in between leaves at
most a DocuSign user that the next run finds again by email: running twice never makes two users, and two runs at
once cannot either (DocuSign refuses a second user with the same email in the account, and the loser finds the
winner's). A permanent failure is kept on the organization in words (`hosted_provisioning_failed`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from docusign_integration.client import users as esign_users
from docusign_integration.client.errors import DocuSignError, PermissionDenied
from docusign_integration.client.rest import AccountRef
from docusign_integration.oauth import tokens
from tenants import audit, offboarding, organizations, system_users
from tenants.models import ClientOrganization, ConsentStatus, ISVAccount, SystemUser

# The hosted system user's profile: sends and manages its own envelopes through the API, nothing account-wide
# (without allowApiAccessToAccount DocuSign shows it only the envelopes it sent), and it is not an administrator.
PROFILE_SETTINGS = {
    "allowApiAccess": "true",
    "allowEnvelopeSending": "true",
    "allowApiAccessToAccount": "false",
    "allowApiSendingOnBehalfOfOthers": "false",
    "allowAccountManagement": "false",
}


# DocuSign's per-user refusal inside newUsers when the email is a user of the account already (users_api create).
USER_EXISTS = "USER_ALREADY_EXISTS_IN_ACCOUNT"
NOT_ADMIN = ("The ISV's administrator system user {user} is not an administrator of the ISV account {account}, so it "
             "cannot create users there: make it one in DocuSign (or record another with manage.py setup_isv_account "
             "--admin-user-id), then provision the client again.")


class HostingUnavailable(ValidationError):
    """No ISV account is recorded for the environment."""


class ProvisioningRefused(DocuSignError):
    """DocuSign refused for a reason the ISV must fix; the message says who does what."""


@dataclass(frozen=True)
class ISVAdmin:
    """The ISV account and a bearer token of its administrator system user (JWT grant)."""

    isv_account: ISVAccount
    ref: AccountRef
    bearer: str


def isv_account_of(environment: str) -> ISVAccount:
    """The environment's ISV account, from the database alone."""
    isv_account = ISVAccount.objects.filter(environment=environment).first()
    if isv_account is None:
        raise HostingUnavailable({"environment": f"No ISV account is recorded for {environment}: run "
                                                 f"`manage.py setup_isv_account` first."})
    return isv_account


def isv_admin(environment: str) -> ISVAdmin:
    isv_account = isv_account_of(environment)
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
        try:
            created = esign_users.create_user(admin.ref, user_name=name, email=email, profile_id=profile_id,
                                              bearer=admin.bearer)
            return str(created["userId"]).lower()
        except DocuSignError as exc:
            if exc.error_code != USER_EXISTS:
                raise
        # Another run created it between our listing and our request: use that one.
        existing = esign_users.find_user_by_email(admin.ref, email, bearer=admin.bearer)
        if existing is None:
            raise DocuSignError("DocuSign says the user exists in the ISV account but does not list it; try again.",
                                error_code=USER_EXISTS, retryable=True)
    changes = {}
    if str(existing.get("userStatus", "")).lower() == "closed":
        changes["userStatus"] = "Active"
    if str(existing.get("permissionProfileId", "")) != profile_id:
        changes["permissionProfileId"] = profile_id
    if changes:
        esign_users.update_user(admin.ref, str(existing["userId"]), changes, bearer=admin.bearer)
    return str(existing["userId"]).lower()


def hosted_client_record(*, acting_user: User | None, name: str, environment: str,
                         slug: str | None = None) -> ClientOrganization:
    """Record a hosted client (or that one is provisioned again) with local checks only; the caller queues its user."""
    return organizations.hosted_organization_provision(acting_user=acting_user, name=name, environment=environment,
                                                       isv_account=isv_account_of(environment), slug=slug)


def hosted_system_user_provision(*, acting_user: User | None, organization: ClientOrganization) -> bool:
    """Create or find the hosted client's DocuSign user (reopened, on the portal's profile) and record it; audited.

    Returns True when its consent should be checked now (the user is new or changed, or consent is not granted).
    Raises DocuSignError (a refusal in words: ProvisioningRefused) or HostingUnavailable, having recorded nothing.
    """
    admin = isv_admin(organization.environment)
    email = admin.isv_account.system_user_email(organization.slug)
    try:
        profile_id = permission_profile_ensure(acting_user=acting_user, admin=admin)
        user_id = system_user_ensure(admin=admin, name=organization.name, email=email, profile_id=profile_id)
    except PermissionDenied as exc:
        raise ProvisioningRefused(NOT_ADMIN.format(user=admin.isv_account.admin_user_id,
                                                   account=admin.isv_account.account_id),
                                  error_code="NOT_AN_ADMINISTRATOR", status=exc.status) from exc
    return hosted_system_user_record(acting_user=acting_user, organization=organization, user_id=user_id, email=email)


def hosted_system_user_record(*, acting_user: User | None, organization: ClientOrganization, user_id: str,
                              email: str) -> bool:
    """Record the hosted client's system user and clear a past failure; nothing is written when nothing changed."""
    with transaction.atomic():
        locked = ClientOrganization.objects.select_for_update().get(pk=organization.pk)
        recorded = SystemUser.objects.filter(organization=locked).first()
        failure = locked.provisioning_error
        if failure:
            ClientOrganization.objects.filter(pk=locked.pk).update(provisioning_error="", updated=timezone.now())
            organization.provisioning_error = ""
        if recorded is None:
            SystemUser.objects.create(organization=locked, user_id=user_id, email=email)
            audit.record(actor=acting_user, action="system_user.create", organization=locked, target=email,
                         before={"provisioning_error": failure} if failure else None,
                         after={"user_id": user_id, "email": email})
            return True
        if failure:
            audit.record(actor=acting_user, action="organization.provisioning_recovered", organization=locked,
                         target=locked, before={"provisioning_error": failure}, after={"provisioning_error": ""})
        if recorded.user_id != user_id or recorded.email != email:
            system_users.system_user_update(acting_user=acting_user, organization=locked, user_id=user_id, email=email)
            return True
        return recorded.consent_status != ConsentStatus.GRANTED


def hosted_provisioning_failed(*, organization: ClientOrganization, message: str) -> None:
    """Keep why the hosted client's system user could not be created or found, in words; audited when it changed."""
    message = message[:500]
    with transaction.atomic():
        locked = ClientOrganization.objects.select_for_update().get(pk=organization.pk)
        if locked.provisioning_error == message:
            return
        ClientOrganization.objects.filter(pk=locked.pk).update(provisioning_error=message, updated=timezone.now())
        audit.record(actor=None, action="organization.provisioning_failed", organization=locked, target=locked,
                     before={"provisioning_error": locked.provisioning_error}, after={"provisioning_error": message})
    organization.provisioning_error = message


def hosted_client_provision(*, acting_user: User | None, name: str, environment: str,
                            slug: str | None = None) -> ClientOrganization:
    """Record a hosted client and create its system user in this process, as the background task does: for tests and
    scripts that need the user at once. A failure is recorded on the organization and raised."""
    organization = hosted_client_record(acting_user=acting_user, name=name, environment=environment, slug=slug)
    with failure_kept_on(organization):
        hosted_system_user_provision(acting_user=acting_user, organization=organization)
    organization.refresh_from_db()
    return organization


@contextlib.contextmanager
def failure_kept_on(organization: ClientOrganization) -> Iterator[None]:
    """Creating the hosted client's user: a failure that ends the attempt is kept on the organization in words
    (`hosted_provisioning_failed`), then raised. The task, the command and `hosted_client_provision` all end so."""
    try:
        yield
    except (DocuSignError, HostingUnavailable) as exc:
        hosted_provisioning_failed(organization=organization, message=failure_words(exc))
        raise


def failure_words(exc: DocuSignError | ValidationError) -> str:
    """What a person reads on the organization when its system user could not be created."""
    if isinstance(exc, DocuSignError):
        return exc.user_message
    return " ".join(exc.messages)


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
