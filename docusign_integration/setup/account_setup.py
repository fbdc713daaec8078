"""Setup DocuSign account: push the ISV's Connect configuration and account settings, and tell whether they drifted.

- `account_setup_push` acts as a DocuSign administrator of the client's account and makes the account match the
  setup profile: it finds the portal's own Connect configuration (by name AND listener URL), creates or updates it,
  and pushes only the account settings that differ. Run twice, it changes nothing the second time.
- `account_setup_diff` is the same comparison, read-only (the command's --dry-run); `account_setup_status` records
  it on the organization's `AccountSetupState` (the daily drift check, the checklist and the admin read that row).

Connect CRUD needs an account administrator, and Connect enabled on the account (docs/docusign.md §7.1).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from docusign_integration.client import accounts, connect_configurations
from docusign_integration.client.errors import DocuSignError, PermissionDenied, RateLimited
from docusign_integration.client.models import AccountRateLimit
from docusign_integration.client.rest import AccountRef
from docusign_integration.oauth import credentials, tokens
from docusign_integration.oauth.models.credentials import DocuSignCredential
from docusign_integration.setup.models import AccountSetupState, SetupProfile, SetupStatus
from outbound_events import outbox
from tenants import audit
from tenants.models import ClientOrganization, SystemUser

logger = logging.getLogger(__name__)

PROFILE_FIELDS = ("connect_name", "connect_configuration", "account_settings")

LISTENER_PATH = "/docusign/connect/"
STATE_FIELDS = ("status", "drift", "connect_id", "last_error")
NEEDS_ADMIN = ("A DocuSign administrator of {account} must connect to DocuSign and run Setup, "
               "or make the system user {email} an administrator.")
CONNECT_DISABLED = ("Connect is not enabled on the DocuSign account {account}. A DocuSign administrator must enable "
                    "Connect for the account (or ask DocuSign to), then run Setup again.")
NO_ACCOUNT = ("This organization has no DocuSign account yet: grant consent for the system user or connect to DocuSign "
              "and choose the account first.")
HOSTED = ("This client is hosted in the ISV's DocuSign account, which the ISV sets up once for every hosted client "
          "(manage.py setup_isv_account); there is nothing to set up per client.")
# UNVERIFIED (docs/docusign.md §7.1): DocuSign's errorCode for an account without Connect is undocumented; the sandbox's.
CONNECT_NOT_ENABLED_CODES = frozenset({"CONNECT_NOT_ENABLED"})


class SetupRefused(DocuSignError):
    """The setup cannot run as things stand; `user_message` says who must do what."""

    default_message = "DocuSign refused to set up the account."


@dataclass(frozen=True)
class Administrator:
    """The DocuSign account administrator the portal acts as, and how to name them in messages and the audit log."""

    user_id: str
    bearer: str
    who: str


@dataclass
class SetupDiff:
    """The account compared with the setup profile."""

    administrator: str
    missing: bool  # no Connect configuration of the portal's on the account
    connect_id: str = ""
    configuration_drift: list[str] = field(default_factory=list)
    settings_changes: dict[str, str] = field(default_factory=dict)  # only the settings that differ, desired values

    @property
    def drift(self) -> list[str]:
        """Field names as DocuSign spells them; account settings as `settings.<name>`."""
        return [*self.configuration_drift, *(f"settings.{name}" for name in sorted(self.settings_changes))]

    @property
    def status(self) -> SetupStatus:
        if self.missing:
            return SetupStatus.MISSING
        return SetupStatus.DRIFTED if self.drift else SetupStatus.IN_SYNC


def listener_url() -> str:
    """Where Connect publishes: the portal's listener."""
    return settings.PORTAL_BASE_URL.rstrip("/") + LISTENER_PATH


def desired_configuration(profile: SetupProfile) -> dict[str, Any]:
    """The connectCustomConfiguration the account should have."""
    return {"name": profile.connect_name, "urlToPublishTo": listener_url(), **profile.connect_configuration}


def configuration_drift(desired: dict[str, Any], actual: dict[str, Any], prefix: str = "") -> list[str]:
    """The desired fields whose value on the account differs (`eventData.includeData` for nested ones).

    Only the profile's keys count: DocuSign adds many fields of its own. Scalars compare in DocuSign's string
    forms; lists (events, includeData) compare as sets, since DocuSign may return them in another order.
    """
    drifted: list[str] = []
    for key, wanted in desired.items():
        current = actual.get(key)
        if isinstance(wanted, dict):
            drifted += configuration_drift(wanted, current if isinstance(current, dict) else {}, f"{prefix}{key}.")
        elif _comparable(wanted) != _comparable(current):
            drifted.append(prefix + key)
    return drifted


def _comparable(value: Any) -> Any:
    if isinstance(value, list):
        return frozenset(str(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def _own_configuration(configurations: list[dict[str, Any]], desired: dict[str, Any]) -> dict[str, Any] | None:
    """The portal's configuration: same name AND same listener URL (the oldest, should there be several).

    Never by name alone, nor by a remembered connectId: a configuration renamed or pointed elsewhere in DocuSign's
    console is someone else's now, and overwriting it would break their integration.
    """
    ours = [c for c in configurations
            if c.get("name") == desired["name"] and c.get("urlToPublishTo") == desired["urlToPublishTo"]]
    return min(ours, key=_connect_id_order) if ours else None


def _connect_id_order(configuration: dict[str, Any]) -> tuple[int, str]:
    connect_id = str(configuration.get("connectId", ""))
    return len(connect_id), connect_id  # numeric order for DocuSign's digit strings, without trusting them to parse


def _account_ref(organization: ClientOrganization) -> AccountRef:
    if organization.is_hosted:  # its account is the ISV's, set up once for every hosted client
        raise SetupRefused(HOSTED, error_code="HOSTED_CLIENT")
    if not organization.account_id or not organization.base_uri:
        raise SetupRefused(NO_ACCOUNT, error_code="NO_ACCOUNT")
    return AccountRef(organization.environment, organization.account_id, organization.base_uri)


def _system_user(organization: ClientOrganization) -> SystemUser | None:
    return SystemUser.objects.filter(organization=organization).first()


def _candidates(organization: ClientOrganization,
                credential: DocuSignCredential | None) -> Iterator[tuple[str, Callable[[], str], str]]:
    """Who may act, in order: the given connection, then the system user. Tokens are fetched only when tried."""
    if credential is not None:
        if credential.organization_id != organization.pk:
            raise ValueError("The DocuSign connection belongs to another organization.")
        yield (credential.docusign_user_id, lambda: credentials.get_valid_access_token(credential),
               f"the DocuSign connection of {credential.docusign_email or credential.docusign_user_id}")
    system_user = _system_user(organization)
    if system_user is not None:
        yield (system_user.user_id, lambda: tokens.get_impersonation_token(organization.environment, system_user.user_id),
               f"the system user {system_user.email}")


def _administrator(organization: ClientOrganization, ref: AccountRef, credential: DocuSignCredential | None) -> Administrator:
    """The first candidate who is an administrator of the account, else SetupRefused saying who must act.

    Admin-ness is read from GET /users/{userId} `isAdmin` before anything is written, rather than learned from
    DocuSign refusing a write: the push then never starts as a user who cannot finish it, and can fall back
    from a non-admin connection to the system user.
    """
    for user_id, token, who in _candidates(organization, credential):
        try:
            bearer = token()
            if accounts.get_user(ref, user_id, bearer=bearer).get("isAdmin") == "true":
                return Administrator(user_id=user_id, bearer=bearer, who=who)
        except DocuSignError as exc:
            if exc.retryable:
                raise
            # No consent, an expired connection, not a member of the account: this candidate cannot act.
            logger.info("account_setup_candidate_unusable organization=%s error_code=%s", organization.pk, exc.error_code)
    raise _needs_admin(organization)


def _needs_admin(organization: ClientOrganization) -> SetupRefused:
    system_user = _system_user(organization)
    return SetupRefused(NEEDS_ADMIN.format(account=organization.account_name or organization.account_id,
                                           email=system_user.email if system_user else "(not recorded yet)"),
                        error_code="NOT_AN_ADMINISTRATOR")


def _refusal(exc: DocuSignError, organization: ClientOrganization) -> DocuSignError:
    """DocuSign's refusals of a setup, as the sentence that says who must act; other errors unchanged."""
    if isinstance(exc, PermissionDenied):
        return _needs_admin(organization)
    if exc.error_code in CONNECT_NOT_ENABLED_CODES:
        return SetupRefused(CONNECT_DISABLED.format(account=organization.account_name or organization.account_id),
                            error_code=exc.error_code, status=exc.status)
    return exc


def observe(ref: AccountRef, administrator: Administrator, profile: SetupProfile,
            desired: dict[str, Any] | None = None) -> SetupDiff:
    """Read the account's Connect configurations and settings (nothing is written) and compare them with `profile`.

    `desired` is the Connect configuration to compare with, `desired_configuration(profile)` unless given (the ISV
    account's adds what hosted routing needs, docusign_integration/hosting/isv_setup.py).
    """
    desired = desired or desired_configuration(profile)
    own = _own_configuration(connect_configurations.list_connect_configurations(ref, bearer=administrator.bearer), desired)
    current = accounts.get_account_settings(ref, bearer=administrator.bearer)
    changes = {name: value for name, value in profile.account_settings.items() if current.get(name) != value}
    if own is None:
        return SetupDiff(administrator=administrator.who, missing=True, settings_changes=changes)
    return SetupDiff(administrator=administrator.who, missing=False, connect_id=str(own.get("connectId", "")),
                     configuration_drift=configuration_drift(desired, own), settings_changes=changes)


def apply(ref: AccountRef, administrator: Administrator, diff: SetupDiff, desired: dict[str, Any]) -> str:
    """Write what `diff` found missing or drifted (nothing when in sync); the Connect configuration's id."""
    connect_id = diff.connect_id
    if diff.missing:
        created = connect_configurations.create_connect_configuration(ref, desired, bearer=administrator.bearer)
        connect_id = str(created["connectId"])
    elif diff.configuration_drift:
        connect_configurations.update_connect_configuration(ref, connect_id, desired, bearer=administrator.bearer)
    if diff.settings_changes:
        accounts.update_account_settings(ref, diff.settings_changes, bearer=administrator.bearer)
    return connect_id


def account_setup_diff(*, organization: ClientOrganization, credential: DocuSignCredential | None = None) -> SetupDiff:
    """How the account differs from the setup profile, read-only (DocuSign and the database alike)."""
    try:
        ref = _account_ref(organization)
        return observe(ref, _administrator(organization, ref, credential), SetupProfile.load())
    except DocuSignError as exc:
        refusal = _refusal(exc, organization)
        if refusal is exc:
            raise
        raise refusal from exc


def account_setup_status(*, organization: ClientOrganization, credential: DocuSignCredential | None = None,
                         ) -> AccountSetupState:
    """Ask DocuSign whether the account is in sync, drifted or missing the setup, and record the answer.

    Transient failures raise and record nothing (the task retries); a refusal records status "unknown" and why.
    """
    try:
        diff = account_setup_diff(organization=organization, credential=credential)
    except DocuSignError as exc:
        if exc.retryable:
            raise
        return _record(organization, acting_user=None, action="account_setup.check", status=SetupStatus.UNKNOWN,
                       last_error=exc.user_message[:500])
    return _record(organization, acting_user=None, action="account_setup.check", status=diff.status, drift=diff.drift,
                   connect_id=diff.connect_id, last_error="")


def account_setup_push(*, acting_user: User | None, organization: ClientOrganization,
                       as_credential: DocuSignCredential | None = None) -> AccountSetupState:
    """Make the account match the setup profile, as `as_credential`'s user when an administrator, else the system user.

    Idempotent and serialized per organization: a concurrent push waits for this one, then finds the configuration
    it made. On failure the state records the error sentence (status "error") and the error is raised (SetupRefused
    for refusals, saying who must act); nothing else is stored.
    """
    profile = SetupProfile.load()
    try:
        with _locked_state(organization) as state:
            ref = _account_ref(organization)
            administrator = _administrator(organization, ref, as_credential)
            diff = observe(ref, administrator, profile)
            connect_id = apply(ref, administrator, diff, desired_configuration(profile))
            with transaction.atomic():
                before = audit.snapshot(state, STATE_FIELDS)
                now = timezone.now()
                state.status, state.drift, state.connect_id, state.last_error = SetupStatus.IN_SYNC, [], connect_id, ""
                state.checked_at = state.pushed_at = now
                state.save()
                audit.record(actor=acting_user, action="account_setup.push", organization=organization, target=state,
                             before={**before, "found": diff.status.value, "drift": diff.drift},
                             after={**audit.snapshot(state, STATE_FIELDS), "as": administrator.who,
                                    "created": diff.missing, "settings_pushed": diff.settings_changes})
            return state
    except DocuSignError as exc:
        failure = _refusal(exc, organization)
        if isinstance(exc, RateLimited):
            # The block http.call stored was rolled back with the push's transaction: keep it, so nothing calls early.
            AccountRateLimit.objects.update_or_create(environment=organization.environment, account_id=organization.account_id,
                                                      defaults={"blocked_until": exc.reset_at})
        _record(organization, acting_user=acting_user, action="account_setup.push_failed", status=SetupStatus.ERROR,
                last_error=failure.user_message[:500], always_audit=True)
        if failure is exc:
            raise
        raise failure from exc


def setup_profile_update(*, acting_user: User | None, connect_name: str, connect_configuration: Any,
                         account_settings: Any) -> SetupProfile:
    """Change what "Setup DocuSign account" pushes to every client account; audited with the changed fields.

    Invalid values (the model's `clean`: reserved or unknown Connect fields, non-string settings) raise
    ValidationError and change nothing.
    """
    with transaction.atomic():
        profile = SetupProfile.objects.select_for_update().get(pk=SetupProfile.load().pk)
        before = audit.snapshot(profile, PROFILE_FIELDS)
        profile.connect_name = connect_name
        profile.connect_configuration = connect_configuration
        profile.account_settings = account_settings
        profile.full_clean()
        old, new = audit.changed(before, audit.snapshot(profile, PROFILE_FIELDS))
        if new:
            profile.save()
            audit.record(actor=acting_user, action="setup_profile.update", organization=None, target=profile,
                         before=old, after=new)
    return profile


@contextlib.contextmanager
def _locked_state(organization: ClientOrganization) -> Iterator[AccountSetupState]:
    """The organization's state row, locked until the block ends (PostgreSQL), so pushes for one account never overlap.

    The lock is held across the DocuSign calls: a few requests, each bounded by DOCUSIGN_HTTP_TIMEOUT. SQLite
    (development only) cannot hold a transaction while the sandbox writes to the same file, so it runs unlocked.
    """
    AccountSetupState.objects.get_or_create(organization=organization)
    if not connection.features.has_select_for_update:
        yield AccountSetupState.objects.get(organization=organization)
        return
    with transaction.atomic():
        yield AccountSetupState.objects.select_for_update().get(organization=organization)


def _record(organization: ClientOrganization, *, acting_user: User | None, action: str,
            always_audit: bool = False, **values: Any) -> AccountSetupState:
    """Store what a check or a failed push found; audit it when it changed something (or always, for pushes)."""
    with transaction.atomic():
        AccountSetupState.objects.get_or_create(organization=organization)
        state = AccountSetupState.objects.select_for_update().get(organization=organization)
        before = audit.snapshot(state, STATE_FIELDS)
        for name, value in values.items():
            setattr(state, name, value)
        state.checked_at = timezone.now()
        state.save()
        before, after = audit.changed(before, audit.snapshot(state, STATE_FIELDS))
        if after or always_audit:
            audit.record(actor=acting_user, action=action, organization=organization, target=state, before=before, after=after)
        if after.get("status") == SetupStatus.DRIFTED:
            outbox.record("setup.drifted", organization=organization, data={"drift": state.drift})
    return state
