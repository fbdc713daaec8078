"""Setup of the ISV account itself: the portal's Connect configuration and account settings, once for every hosted client.

A hosted client has no account of its own to set up ("Setup DocuSign account" refuses it): its Connect messages come
from the ISV account's configuration, which must carry what hosted routing reads (connect/hosted_routing.py): the
envelope custom field `portalClientOrganization` (`eventData.includeData` gets `custom_fields`) and the sender's user id
(`envelopeSummary.sender.userId`, in the envelope summary that `includeData` asks for; docs/docusign.md §7.3, §10.1).
The comparison and the writes are "Setup DocuSign account"'s own (`setup.account_setup.observe` / `apply`), so a
second push finds everything in sync and writes nothing. The portal acts as the ISV's administrator system user (JWT,
`provisioning.isv_admin`); what it found is kept on the ISVAccount row (the admin page reads that, never DocuSign).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from docusign_integration.client.errors import DocuSignError, PermissionDenied, RateLimited
from docusign_integration.client.models import AccountRateLimit
from docusign_integration.hosting.provisioning import ISVAdmin, isv_admin
from docusign_integration.setup.account_setup import (
    CONNECT_NOT_ENABLED_CODES,
    Administrator,
    SetupDiff,
    SetupRefused,
    apply,
    desired_configuration,
    observe,
)
from docusign_integration.setup.models import SetupProfile, SetupStatus
from tenants import audit
from tenants.models import ISVAccount

logger = logging.getLogger(__name__)

# What hosted routing needs in every message besides what own-account clients get.
ISV_INCLUDE_DATA = ("custom_fields",)
STATE_FIELDS = ("setup_status", "setup_drift", "connect_id", "setup_last_error")
NOT_ADMIN = ("The ISV's administrator system user {user} is not an administrator of the ISV account {account}: make it "
             "one in DocuSign (or record another with manage.py setup_isv_account --admin-user-id), then push again.")
CONNECT_DISABLED = ("Connect is not enabled on the ISV account {account}. A DocuSign administrator must enable Connect "
                    "for the account (or ask DocuSign to), then push again.")


def isv_desired_configuration(profile: SetupProfile) -> dict[str, Any]:
    """The setup profile's Connect configuration, with the envelope custom fields in every message's data."""
    desired = desired_configuration(profile)
    event_data = dict(desired.get("eventData") or {})
    included = [str(name) for name in event_data.get("includeData") or []]
    event_data["includeData"] = included + [name for name in ISV_INCLUDE_DATA if name not in included]
    return {**desired, "eventData": event_data}


def _administrator(admin: ISVAdmin) -> Administrator:
    return Administrator(user_id=admin.isv_account.admin_user_id, bearer=admin.bearer,
                         who=f"the ISV's administrator system user {admin.isv_account.admin_user_id}")


def isv_account_setup_diff(environment: str) -> SetupDiff:
    """How the ISV account differs from what the portal would push, read-only (DocuSign and the database alike)."""
    return _diff(isv_admin(environment))


def _diff(admin: ISVAdmin) -> SetupDiff:
    profile = SetupProfile.load()
    try:
        return observe(admin.ref, _administrator(admin), profile, isv_desired_configuration(profile))
    except DocuSignError as exc:
        raise _refusal(exc, admin.isv_account) from exc


def isv_account_setup_check(*, environment: str) -> ISVAccount:
    """Ask DocuSign whether the ISV account is in sync, drifted or missing the setup, and record it (audited if changed).

    Transient failures raise and record nothing; a refusal records status "error" and why.
    """
    admin = isv_admin(environment)
    try:
        diff = _diff(admin)
    except DocuSignError as exc:
        if exc.retryable:
            raise
        return _record(admin.isv_account, acting_user=None, action="isv.account_setup_check",
                       setup_status=SetupStatus.ERROR, setup_last_error=exc.user_message[:500])
    return _record(admin.isv_account, acting_user=None, action="isv.account_setup_check", setup_status=diff.status,
                   setup_drift=diff.drift, connect_id=diff.connect_id, setup_last_error="")


def isv_account_setup_push(*, acting_user: User | None, environment: str) -> SetupDiff:
    """Make the ISV account match: create or correct the portal's Connect configuration, push differing settings.

    Idempotent and serialized per account (PostgreSQL); returns what it found before writing. Always audited; a
    refusal is recorded (status "error", the sentence saying who must act) and raised as SetupRefused.
    """
    admin = isv_admin(environment)
    profile = SetupProfile.load()
    desired = isv_desired_configuration(profile)
    try:
        with _locked(admin.isv_account):
            diff = observe(admin.ref, _administrator(admin), profile, desired)
            connect_id = apply(admin.ref, _administrator(admin), diff, desired)
    except DocuSignError as exc:
        failure = _refusal(exc, admin.isv_account)
        if isinstance(exc, RateLimited):  # the block http.call stored was rolled back with the lock's transaction
            AccountRateLimit.objects.update_or_create(environment=environment, account_id=admin.isv_account.account_id,
                                                      defaults={"blocked_until": exc.reset_at})
        _record(admin.isv_account, acting_user=acting_user, action="isv.account_setup_push_failed",
                setup_status=SetupStatus.ERROR, setup_last_error=failure.user_message[:500], always_audit=True)
        if failure is exc:
            raise
        raise failure from exc
    _record(admin.isv_account, acting_user=acting_user, action="isv.account_setup_push", always_audit=True,
            extra={"found": diff.status.value, "drift": diff.drift, "created": diff.missing,
                   "settings_pushed": diff.settings_changes, "as": diff.administrator},
            setup_status=SetupStatus.IN_SYNC, setup_drift=[], connect_id=connect_id, setup_last_error="")
    logger.info("isv_account_setup_push environment=%s found=%s drift=%s", environment, diff.status.value,
                ",".join(diff.drift) or "-")
    return diff


def _refusal(exc: DocuSignError, isv_account: ISVAccount) -> DocuSignError:
    if isinstance(exc, PermissionDenied):
        return SetupRefused(NOT_ADMIN.format(user=isv_account.admin_user_id, account=isv_account.account_id),
                            error_code="NOT_AN_ADMINISTRATOR")
    if exc.error_code in CONNECT_NOT_ENABLED_CODES:
        return SetupRefused(CONNECT_DISABLED.format(account=isv_account.account_id), error_code=exc.error_code,
                            status=exc.status)
    return exc


@contextlib.contextmanager
def _locked(isv_account: ISVAccount) -> Iterator[None]:
    """The ISV account's row locked until the block ends (PostgreSQL), so two pushes never both create a configuration.

    As in setup.account_setup._locked_state: SQLite (development only) cannot hold the transaction, so it runs unlocked.
    """
    if not connection.features.has_select_for_update:
        yield
        return
    with transaction.atomic():
        ISVAccount.objects.select_for_update().filter(pk=isv_account.pk).first()
        yield


def _record(isv_account: ISVAccount, *, acting_user: User | None, action: str, always_audit: bool = False,
            extra: dict[str, Any] | None = None, **values: Any) -> ISVAccount:
    """Store what a check or a push found; audit it when it changed something (or always, for pushes)."""
    with transaction.atomic():
        row = ISVAccount.objects.select_for_update().get(pk=isv_account.pk)
        before = audit.snapshot(row, STATE_FIELDS)
        for name, value in values.items():
            setattr(row, name, value)
        row.setup_checked_at = timezone.now()
        row.save(update_fields=[*values, "setup_checked_at", "updated"])
        before, after = audit.changed(before, audit.snapshot(row, STATE_FIELDS))
        if after or always_audit:
            audit.record(actor=acting_user, action=action, organization=None, target=row, before=before,
                         after={**after, **(extra or {})})
    return row
