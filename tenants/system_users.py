"""Named write operations on an organization's system user: who it is, and what consent checks found.

Like every service (tenants/services.py): atomic, keyword-only `acting_user`, one audit row per change.
"""

from __future__ import annotations

from typing import Protocol

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from docusign_integration.oauth.tokens import forget_impersonation_token
from outbound_events import outbox
from tenants import audit
from tenants.models import (
    GUID_PATTERN,
    AccountSource,
    ClientOrganization,
    ConsentStatus,
    ISVAccount,
    OnboardingStatus,
    SystemUser,
)
from tenants.organizations import ACCOUNT_TAKEN, ORGANIZATION_FIELDS, VerifiedAccount

SYSTEM_USER_FIELDS = ("user_id", "email", "consent_status", "consent_type", "scopes", "verified_at", "last_error",
                      "last_error_code", "account_id")


class ConsentError(Protocol):
    """What a DocuSign error tells the portal (docusign_integration.client.errors.DocuSignError fits)."""

    @property
    def error_code(self) -> str | None: ...
    @property
    def user_message(self) -> str: ...


def system_user_update(*, acting_user: User | None, organization: ClientOrganization, user_id: str, email: str) -> SystemUser:
    """Record another DocuSign user as the organization's system user. A new user id starts again at consent "unknown"."""
    user_id = user_id.strip().lower()
    email = email.strip()
    errors: dict[str, str] = {}
    if not GUID_PATTERN.match(user_id):
        errors["user_id"] = "The system user id must be the DocuSign user's GUID (not an email address)."
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = "Enter the system user's email address."
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        system_user = SystemUser.objects.select_for_update().get(organization=organization)
        before = audit.snapshot(system_user, SYSTEM_USER_FIELDS)
        old_user_id = system_user.user_id
        system_user.user_id, system_user.email = user_id, email
        if user_id != old_user_id:
            # Consent belongs to a DocuSign user: nothing known about the old one holds for the new one.
            system_user.consent_status, system_user.consent_type, system_user.scopes = ConsentStatus.UNKNOWN, "", ""
            system_user.verified_at = system_user.checked_at = None
            system_user.last_error = system_user.last_error_code = ""
            transaction.on_commit(lambda: forget_impersonation_token(organization.environment, old_user_id))
        system_user.save()
        before, after = audit.changed(before, audit.snapshot(system_user, SYSTEM_USER_FIELDS))
        audit.record(actor=acting_user, action="system_user.update", organization=organization, target=system_user,
                     before=before, after=after)
    return system_user


def consent_record_result(
    *,
    acting_user: User | None,
    organization: ClientOrganization,
    granted: bool | None,
    consent_type: str | None = None,
    scopes: str = "",
    account: VerifiedAccount | None = None,
    error: ConsentError | None = None,
) -> SystemUser:
    """Store what a consent check found, all at once.

    `granted`: True when a JWT grant succeeded, False on `consent_required`, None when the check could not tell
    (the recorded status stays). `consent_type` None keeps the recorded type (bulk checks cannot see it).
    `account` is recorded on the organization unless another organization already has it (docs/security.md TI-5).
    """
    with transaction.atomic():
        organization = ClientOrganization.objects.select_for_update().get(pk=organization.pk)
        system_user = SystemUser.objects.select_for_update().get(organization=organization)
        before_user = audit.snapshot(system_user, SYSTEM_USER_FIELDS)
        before_org = audit.snapshot(organization, ORGANIZATION_FIELDS)
        now = timezone.now()
        system_user.checked_at = now
        system_user.last_error, system_user.last_error_code = "", ""
        if granted:
            system_user.consent_status = ConsentStatus.GRANTED
            system_user.scopes = scopes
            system_user.verified_at = now
            if consent_type is not None:
                system_user.consent_type = consent_type
        elif granted is False:
            was_granted = system_user.consent_status in (ConsentStatus.GRANTED, ConsentStatus.REVOKED)
            system_user.consent_status = ConsentStatus.REVOKED if was_granted else ConsentStatus.REQUIRED
            system_user.scopes = ""
        if error is not None:
            system_user.last_error = error.user_message[:500]
            system_user.last_error_code = (error.error_code or type(error).__name__)[:100]
        if granted and account is not None:
            system_user.account_id = account.account_id  # compared with the client's choice (onboarding.account_conflict)
        if granted and account is not None and not _link_account(organization, account):
            system_user.last_error, system_user.last_error_code = ACCOUNT_TAKEN, "account_linked_elsewhere"
            audit.record(actor=acting_user, action="organization.account_link_refused", organization=organization,
                         target=organization, after={"account_id": account.account_id})
        if granted and organization.onboarding_status in (OnboardingStatus.PROVISIONED, OnboardingStatus.INVITED):
            organization.onboarding_status = OnboardingStatus.CONSENTED
        organization.save()
        system_user.save()
        before_org, after_org = audit.changed(before_org, audit.snapshot(organization, ORGANIZATION_FIELDS))
        before_user, after_user = audit.changed(before_user, audit.snapshot(system_user, SYSTEM_USER_FIELDS))
        audit.record(actor=acting_user, action="consent.check", organization=organization, target=system_user,
                     before={**before_user, **before_org}, after={**after_user, **after_org})
        if "consent_status" in after_user:
            outbox.record("consent.changed", organization=organization, data={"consent_status": system_user.consent_status})
    return system_user


def _link_account(organization: ClientOrganization, account: VerifiedAccount) -> bool:
    """Put the verified account's details on `organization` (unsaved), or return False when another organization has it."""
    if organization.is_hosted:
        if account.account_id != organization.account_id:  # a hosted client keeps the ISV account, shared
            return False
    elif not _link_own_account(organization, account):
        return False
    organization.account_id = account.account_id
    organization.account_name = account.account_name
    organization.base_uri = account.base_uri
    organization.organization_id = account.organization_id or organization.organization_id
    organization.account_source = organization.account_source or AccountSource.CONSENT
    return True


def _link_own_account(organization: ClientOrganization, account: VerifiedAccount) -> bool:
    taken = (
        ClientOrganization.objects.filter(environment=organization.environment, account_id=account.account_id)
        .exclude(pk=organization.pk)
        .exists()
    ) or ISVAccount.objects.filter(environment=organization.environment, account_id=account.account_id).exists()
    if taken:
        return False
    try:
        # A savepoint: a concurrent link of the same account loses on the unique constraint, not the whole check.
        with transaction.atomic():
            ClientOrganization.objects.filter(pk=organization.pk).update(account_id=account.account_id)
    except IntegrityError:
        return False
    return True
