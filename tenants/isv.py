"""Recording the ISV's own DocuSign account, once per environment (docs/docusign.md §10.1)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from docusign_integration.client import conf
from tenants import audit
from tenants.models import GUID_PATTERN, ClientOrganization, Hosting, ISVAccount

ISV_FIELDS = ("account_id", "base_uri", "admin_user_id", "system_user_email_pattern", "permission_profile_name")


def isv_account_record(*, acting_user: User | None, environment: str, account_id: str, base_uri: str,
                       admin_user_id: str, system_user_email_pattern: str | None = None) -> ISVAccount:
    """Create or update the environment's ISV account; bad input raises ValidationError and stores nothing.

    Its account id cannot change once clients are hosted in it (they would silently move to another account), and
    it cannot be an account an own-account client already has.
    """
    account_id, admin_user_id = account_id.strip().lower(), admin_user_id.strip().lower()
    errors: dict[str, str] = {}
    if environment not in conf.served_environments():
        errors["environment"] = f"This portal does not serve the DocuSign environment {environment!r}."
    if not GUID_PATTERN.match(account_id):
        errors["account_id"] = "The ISV account id must be a GUID."
    if not GUID_PATTERN.match(admin_user_id):
        errors["admin_user_id"] = "The administrator system user id must be the DocuSign user's GUID."
    if system_user_email_pattern is not None and ("{slug}" not in system_user_email_pattern
                                                  or "@" not in system_user_email_pattern):
        errors["system_user_email_pattern"] = "The pattern needs {slug} and an @domain, e.g. docusign+{slug}@isv.example."
    if ClientOrganization.objects.filter(environment=environment, account_id=account_id,
                                         hosting=Hosting.OWN_ACCOUNT).exists():
        errors["account_id"] = "An own-account client organization already has this DocuSign account."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        isv_account = ISVAccount.objects.select_for_update().filter(environment=environment).first()
        before = audit.snapshot(isv_account, ISV_FIELDS) if isv_account else {}
        if isv_account is None:
            isv_account = ISVAccount(environment=environment)
        elif (isv_account.account_id != account_id
              and ClientOrganization.objects.filter(environment=environment, hosting=Hosting.HOSTED).exists()):
            raise ValidationError({"account_id": "Clients are hosted in the recorded ISV account: its id cannot change."})
        isv_account.account_id, isv_account.admin_user_id = account_id, admin_user_id
        isv_account.base_uri = base_uri
        if system_user_email_pattern is not None:
            isv_account.system_user_email_pattern = system_user_email_pattern.strip()
        isv_account.full_clean()
        isv_account.base_uri = conf.get_environment(environment).allowed_base_uri(isv_account.base_uri)
        isv_account.save()
        before, after = audit.changed(before, audit.snapshot(isv_account, ISV_FIELDS))
        audit.record(actor=acting_user, action="isv.account_record", organization=None, target=isv_account,
                     before=before, after=after)
    return isv_account
