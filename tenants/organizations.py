"""Named write operations on client organizations themselves: provisioning, renaming, choosing the DocuSign account.

Like every service (tenants/services.py): atomic, keyword-only `acting_user` (None for the system), one audit row
per change, side effects only after commit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Protocol

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from docusign_integration.client import conf
from tenants import audit
from tenants.models import (
    GUID_PATTERN,
    AccountSource,
    ClientOrganization,
    Hosting,
    ISVAccount,
    OnboardingStatus,
    SystemUser,
)

ACCOUNT_TAKEN = "This DocuSign account is already linked to another client organization; one account serves one organization."
RECORDED_MEANWHILE = ("Another client organization with this slug, DocuSign account or system user was recorded "
                      "meanwhile (a second submit?): reload the list and check it before trying again.")
ISV_ACCOUNT_TAKEN = ("This is the ISV's own DocuSign account: provision the client as hosted (provision_client --hosted) "
                     "instead of linking the account.")
ACCOUNT_FIELDS = ("account_id", "account_name", "base_uri", "organization_id", "onboarding_status", "account_source")
_STATUS_ORDER = list(OnboardingStatus.values)
ORGANIZATION_FIELDS = ("name", "slug", "environment", "hosting", "onboarding_status", "account_id", "account_name", "base_uri",
                       "organization_id", "account_source")


class VerifiedAccount(Protocol):
    """The account a consent verification settled on (docusign_integration.oauth.account_server.UserAccount fits)."""

    @property
    def account_id(self) -> str: ...
    @property
    def account_name(self) -> str: ...
    @property
    def base_uri(self) -> str: ...
    @property
    def organization_id(self) -> str | None: ...


def organization_provision(
    *,
    acting_user: User | None,
    name: str,
    environment: str,
    system_user_id: str,
    system_user_email: str,
    account_id: str | None = None,
    slug: str | None = None,
) -> ClientOrganization:
    """Create a client organization and its system user. Bad input raises ValidationError and stores nothing.

    An own-account client may never take the ISV account (docs/docusign.md §10.1): hosted clients are recorded by
    `hosted_organization_provision`.
    """
    name = name.strip()
    system_user_id = system_user_id.strip().lower()
    system_user_email = system_user_email.strip()
    account_id = (account_id or "").strip().lower() or None
    errors = _name_and_environment_errors(name, environment)
    if not GUID_PATTERN.match(system_user_id):
        errors["system_user_id"] = "The system user id must be the DocuSign user's GUID (not an email address)."
    try:
        validate_email(system_user_email)
    except ValidationError:
        errors["system_user_email"] = "Enter the system user's email address."
    if account_id is not None and not GUID_PATTERN.match(account_id):
        errors["account_id"] = "The DocuSign account id must be a GUID (Settings > Apps and Keys shows it as API Account ID)."
    elif account_id and ISVAccount.objects.filter(environment=environment, account_id=account_id).exists():
        errors["account_id"] = ISV_ACCOUNT_TAKEN
    elif account_id and ClientOrganization.objects.filter(environment=environment, account_id=account_id).exists():
        errors["account_id"] = ACCOUNT_TAKEN
    slug = slugify(slug or name)[:50]
    if not slug and "name" not in errors:
        errors["slug"] = "Enter a slug made of letters, digits and hyphens."
    elif ClientOrganization.objects.filter(slug=slug).exists():
        errors["slug"] = f"The slug {slug!r} is taken by another client organization; choose another one."
    if errors:
        raise ValidationError(errors)

    with _refusing_a_race():
        organization = ClientOrganization.objects.create(
            name=name, slug=slug, environment=environment, account_id=account_id,
            account_source=AccountSource.STAFF if account_id else AccountSource.UNKNOWN,
        )
        system_user = SystemUser.objects.create(organization=organization, user_id=system_user_id, email=system_user_email)
        audit.record(
            actor=acting_user, action="organization.provision", organization=organization, target=organization,
            after={**audit.snapshot(organization, ORGANIZATION_FIELDS),
                   "system_user": audit.snapshot(system_user, ("user_id", "email"))},
        )
    return organization


@contextlib.contextmanager
def _refusing_a_race() -> Iterator[None]:
    """The checks read before the insert: a request running at the same moment (staff's double submit) may record the
    same slug, account or system user in between. The database's unique constraints refuse the second insert; that is
    answered as bad input, with nothing stored, instead of a 500."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise ValidationError(RECORDED_MEANWHILE) from None


def _name_and_environment_errors(name: str, environment: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Enter the client organization's name."
    if environment not in conf.served_environments():
        served = ", ".join(conf.served_environments())
        errors["environment"] = f"This portal serves the DocuSign environments {served}; {environment!r} is not one of them."
    return errors


def hosted_organization_provision(*, acting_user: User | None, name: str, environment: str, isv_account: ISVAccount,
                                  slug: str | None = None) -> ClientOrganization:
    """Record a hosted client in the ISV account (docs/docusign.md §10.1) before its system user exists, or record that
    an existing hosted client of the environment is provisioned again. Local checks only: DocuSign is not asked.

    Its system user is created (or found again) in the background, which records it or the failure in words
    (`docusign_integration.hosting.tasks.provision_hosted_system_user`); until then the organization has none, and
    `provisioning_error` is empty. Bad input raises ValidationError and stores nothing.
    """
    name = name.strip()
    errors = _name_and_environment_errors(name, environment)
    slug = slugify(slug or name)[:50]
    existing = ClientOrganization.objects.filter(slug=slug).first() if slug else None
    if not slug and "name" not in errors:
        errors["slug"] = "Enter a slug made of letters, digits and hyphens."
    elif existing is not None and (not existing.is_hosted or existing.environment != environment):
        errors["slug"] = (f"The slug {slug!r} is taken by a client organization that is not hosted in {environment}; "
                          "choose another one.")
    elif existing is not None and existing.offboarded_at is not None:  # its background run would skip it: say so now
        errors["slug"] = (f"{existing.name} was offboarded on {existing.offboarded_at:%Y-%m-%d}; its records are kept "
                          "under this slug. Provision the client under another slug.")
    if errors:
        raise ValidationError(errors)
    with _refusing_a_race():
        if existing is not None:
            # Provisioning again: the last failure is no longer the news; the background run records the outcome.
            locked = ClientOrganization.objects.select_for_update().get(pk=existing.pk)
            audit.record(actor=acting_user, action="organization.provision_again", organization=locked, target=locked,
                         before={"provisioning_error": locked.provisioning_error} if locked.provisioning_error else None)
            if locked.provisioning_error:
                ClientOrganization.objects.filter(pk=locked.pk).update(provisioning_error="", updated=timezone.now())
                locked.provisioning_error = ""
            return locked
        organization = ClientOrganization.objects.create(
            name=name, slug=slug, environment=environment, hosting=Hosting.HOSTED, account_id=isv_account.account_id,
            base_uri=isv_account.base_uri, account_source=AccountSource.STAFF)
        audit.record(actor=acting_user, action="organization.provision", organization=organization, target=organization,
                     after={**audit.snapshot(organization, ORGANIZATION_FIELDS), "system_user": None})
    return organization


def organization_rename(*, acting_user: User | None, organization: ClientOrganization, name: str) -> ClientOrganization:
    """Change the organization's display name (the slug stays: it is in links already sent)."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Enter the client organization's name."})
    with transaction.atomic():
        old = ClientOrganization.objects.select_for_update().values_list("name", flat=True).get(pk=organization.pk)
        if old != name:
            ClientOrganization.objects.filter(pk=organization.pk).update(name=name, updated=timezone.now())
            audit.record(actor=acting_user, action="organization.rename", organization=organization, target=organization,
                         before={"name": old}, after={"name": name})
    organization.name = name
    return organization


def account_choose(*, acting_user: User, organization: ClientOrganization,
                   account: VerifiedAccount) -> ClientOrganization:
    """Make `account` the organization's DocuSign account: the client admin's choice.

    It replaces an account consent recorded (the system user's default) or the client's earlier choice; a different
    account than the dedicated one ISV staff set is refused, and so is an account already linked to another
    organization (the unique constraint on environment and account id; the refusal is audited). The row is locked
    first: of two admins choosing at once, the second sees the first's choice, never overwrites it unknowingly.
    """
    from docusign_integration.setup.models import AccountSetupState, SetupStatus  # the setup of another account is unknown

    with transaction.atomic():
        locked = ClientOrganization.objects.select_for_update().get(pk=organization.pk)
        recorded = locked.account_id
        if (recorded or "").lower() != (organization.account_id or "").lower():
            # The caller's page showed another account than the one recorded now: somebody chose meanwhile. Their
            # choice stands until this person has seen it (optimistic: the caller's copy is what they decided on).
            raise ValidationError(
                f"This organization already uses the DocuSign account {locked.account_name or recorded} ({recorded}), "
                "chosen meanwhile. Reload the page, and choose again if it should change."
            )
        if (recorded and locked.account_source == AccountSource.STAFF
                and recorded.lower() != account.account_id.lower()):
            raise ValidationError(
                f"This organization already uses the DocuSign account {locked.account_name or recorded} ({recorded}). "
                "Choose that account; ISV staff can change it if it is wrong."
            )
        before = audit.snapshot(locked, ACCOUNT_FIELDS)
        if locked.account_source != AccountSource.STAFF:
            locked.account_source = AccountSource.CLIENT
        if (recorded or "").lower() != account.account_id.lower():
            locked.organization_id = None  # the old account's DocuSign organization says nothing about the new one
        locked.account_id = account.account_id
        locked.account_name = account.account_name
        locked.base_uri = account.base_uri
        locked.organization_id = locked.organization_id or account.organization_id
        if _STATUS_ORDER.index(locked.onboarding_status) < _STATUS_ORDER.index(OnboardingStatus.CONNECTED):
            locked.onboarding_status = OnboardingStatus.CONNECTED
        old, new = audit.changed(before, audit.snapshot(locked, ACCOUNT_FIELDS))
        taken = False
        if new:
            try:
                with transaction.atomic():  # a savepoint: the refusal below is still recorded
                    locked.save(update_fields=[*ACCOUNT_FIELDS, "updated"])
                    if "account_id" in new:  # another account: its setup is not known until it is checked or pushed
                        AccountSetupState.objects.filter(organization=locked).update(status=SetupStatus.UNKNOWN,
                                                                                     pushed_at=None)
            except IntegrityError:
                taken = True
                audit.record(actor=acting_user, action="account.link_refused", organization=locked, target=locked,
                             after={"account_id": account.account_id, "reason": "linked to another organization"})
            else:
                audit.record(actor=acting_user, action="account.choose", organization=locked, target=locked,
                             before=old, after=new)
    if taken:
        raise ValidationError(
            f"The DocuSign account {account.account_name} ({account.account_id}) is already linked to another client "
            "organization. Choose another account, or contact the ISV's staff."
        )
    for name in ACCOUNT_FIELDS:
        setattr(organization, name, getattr(locked, name))
    return organization


def organization_delete(*, acting_user: User | None, organization: ClientOrganization) -> None:
    """Delete an organization and the rows that belong to it, for good: the ISV's decision at the end of its retention
    period or at the client's request, never part of offboarding (tenants.offboarding.OFFBOARDING_RETENTION).

    The audit row stays (its organization link becomes empty) and names what was deleted.
    """
    with transaction.atomic():
        locked = ClientOrganization.objects.select_for_update().get(pk=organization.pk)
        audit.record(actor=acting_user, action="organization.delete", organization=locked, target=locked,
                     before=audit.snapshot(locked, (*ORGANIZATION_FIELDS, "offboarded_at")))
        locked.delete()
