"""Named write operations on client organizations. Views, admin actions, commands and tasks only call these.

Each one is atomic, takes a keyword-only `acting_user` (None for the system), writes an `AuditEvent`, and
runs side effects (emails, token cache eviction) only after the transaction commits.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol, TypedDict

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count, Model, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.text import slugify

from docusign_integration.client import conf
from docusign_integration.connect.hmac import connect_hmac_key_retire
from docusign_integration.connect.models import HMACKeyScope
from docusign_integration.models import CachedAccessToken, ConnectHMACKey, DocuSignCredential, OAuthState
from docusign_integration.oauth.credentials import credential_disconnect
from docusign_integration.oauth.tokens import forget_impersonation_token
from tenants import audit
from tenants.models import (
    GUID_PATTERN,
    ClientMembership,
    ClientOrganization,
    ConsentStatus,
    Hosting,
    Invitation,
    ISVAccount,
    MembershipRole,
    OnboardingStatus,
    SystemUser,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

INVITATION_LIFETIME = timedelta(days=7)
ACCOUNT_TAKEN = "This DocuSign account is already linked to another client organization; one account serves one organization."
ISV_ACCOUNT_TAKEN = ("This is the ISV's own DocuSign account: provision the client as hosted (provision_client --hosted) "
                     "instead of linking the account.")

ORGANIZATION_FIELDS = ("name", "slug", "environment", "hosting", "onboarding_status", "account_id", "account_name", "base_uri",
                       "organization_id")
SYSTEM_USER_FIELDS = ("user_id", "email", "consent_status", "consent_type", "scopes", "verified_at", "last_error",
                      "last_error_code")


class ConsentError(Protocol):
    """What a DocuSign error tells the portal (docusign_integration.client.errors.DocuSignError fits)."""

    @property
    def error_code(self) -> str | None: ...
    @property
    def user_message(self) -> str: ...


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
    isv_account: ISVAccount | None = None,
) -> ClientOrganization:
    """Create a client organization and its system user. Bad input raises ValidationError and stores nothing.

    With `isv_account`, the client is hosted in the ISV's own account (docs/docusign.md §10.1): it takes that
    account, shared with the other hosted clients; an own-account client may never take the ISV account.
    """
    name = name.strip()
    system_user_id = system_user_id.strip().lower()
    system_user_email = system_user_email.strip()
    account_id = (account_id or "").strip().lower() or None
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Enter the client organization's name."
    if environment not in conf.served_environments():
        served = ", ".join(conf.served_environments())
        errors["environment"] = f"This portal serves the DocuSign environments {served}; {environment!r} is not one of them."
    if not GUID_PATTERN.match(system_user_id):
        errors["system_user_id"] = "The system user id must be the DocuSign user's GUID (not an email address)."
    try:
        validate_email(system_user_email)
    except ValidationError:
        errors["system_user_email"] = "Enter the system user's email address."
    if isv_account is not None:
        account_id = isv_account.account_id
    elif account_id is not None and not GUID_PATTERN.match(account_id):
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

    with transaction.atomic():
        hosted = {"hosting": Hosting.HOSTED, "base_uri": isv_account.base_uri} if isv_account is not None else {}
        organization = ClientOrganization.objects.create(
            name=name, slug=slug, environment=environment, account_id=account_id, **hosted,
        )
        system_user = SystemUser.objects.create(organization=organization, user_id=system_user_id, email=system_user_email)
        audit.record(
            actor=acting_user, action="organization.provision", organization=organization, target=organization,
            after={**audit.snapshot(organization, ORGANIZATION_FIELDS),
                   "system_user": audit.snapshot(system_user, ("user_id", "email"))},
        )
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


def invitation_send(*, acting_user: User | None, organization: ClientOrganization, email: str, role: str) -> Invitation:
    """Invite someone by email to the organization's onboarding pages with a signed, expiring, single-use link."""
    email = email.strip()
    errors: dict[str, str] = {}
    if organization.offboarded_at is not None:
        errors["email"] = f"{organization.name} is offboarded: reactivate it before inviting anyone."
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = "Enter the email address of the person to invite."
    if role not in MembershipRole.values:
        errors["role"] = f"Choose a role: {', '.join(MembershipRole.values)}."
    if errors:
        raise ValidationError(errors)

    token = Invitation.sign(secrets.token_urlsafe(32))
    with transaction.atomic():
        invitation = Invitation.objects.create(
            organization=organization, email=email, role=role, token_hash=Invitation.hash_token(token),
            expires_at=timezone.now() + INVITATION_LIFETIME, invited_by=acting_user if acting_user else None,
        )
        if organization.onboarding_status == OnboardingStatus.PROVISIONED:
            ClientOrganization.objects.filter(pk=organization.pk).update(onboarding_status=OnboardingStatus.INVITED)
            organization.onboarding_status = OnboardingStatus.INVITED
        audit.record(actor=acting_user, action="invitation.send", organization=organization, target=invitation,
                     after=audit.snapshot(invitation, ("email", "role", "expires_at")))
        # The token lives only in this closure and the email: never in a task argument or a log line.
        transaction.on_commit(lambda: _email_invitation(invitation, token))
    return invitation


def invitation_accept_url(token: str) -> str:
    """The absolute accept link. The page belongs to onboarding; fall back to its documented path until it exists."""
    try:
        path = reverse("onboarding:invitation_accept", args=[token])
    except NoReverseMatch:
        path = f"/onboarding/invitations/{token}/"
    return settings.PORTAL_BASE_URL.rstrip("/") + path


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


def _email_invitation(invitation: Invitation, token: str) -> None:
    organization = invitation.organization
    send_mail(
        subject=f"You are invited to connect {organization.name} to DocuSign",
        message=(
            f"Hello,\n\nYou are invited to set up DocuSign eSignature for {organization.name} in our partner portal.\n"
            f"Open this link to accept (it works once and expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC):\n\n"
            f"{invitation_accept_url(token)}\n"
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )



# --- offboarding (docs/security.md TS-6) ------------------------------------------------------------

OFFBOARDING_RETENTION = (
    "The organization row, its envelopes, stored signed documents, Connect messages and audit history are kept, "
    "with no time limit: the portal never deletes them by itself. Deleting them (at the end of the ISV's retention "
    "period, or at the client's request) is a separate decision, never part of offboarding."
)


class OffboardingCounts(TypedDict):
    """What `offboarding_preview` adds to each organization."""

    to_disconnect: int
    to_forget: int
    to_retire: int
    to_revoke: int
    to_remove: int
    to_cancel: int


def offboarding_preview(organizations: QuerySet[ClientOrganization],
                        ) -> QuerySet[WithAnnotations[ClientOrganization, OffboardingCounts]]:
    """`organizations` annotated with what offboarding each would delete or revoke (one query for the page or command).

    `to_disconnect` DocuSign connections, `to_forget` cached JWT tokens, `to_retire` account Connect HMAC keys,
    `to_revoke` pending invitations, `to_remove` memberships, `to_cancel` OAuth sign-ins in progress.
    """
    now = timezone.now()

    def count(model: type[Model], **filters: object) -> Coalesce:
        rows = model._default_manager.filter(**filters).order_by().values("organization_id").annotate(n=Count("pk")).values("n")
        return Coalesce(Subquery(rows), 0)

    tokens = (CachedAccessToken.objects.filter(environment=OuterRef("environment"), user_id=OuterRef("system_user__user_id"))
              .order_by().values("user_id").annotate(n=Count("pk")).values("n"))
    return organizations.select_related("system_user").annotate(
        to_disconnect=count(DocuSignCredential, organization=OuterRef("pk")),
        to_forget=Coalesce(Subquery(tokens), 0),
        to_retire=count(ConnectHMACKey, organization=OuterRef("pk"), scope=HMACKeyScope.ACCOUNT, active=True),
        to_revoke=count(Invitation, organization=OuterRef("pk"), accepted_at__isnull=True, expires_at__gt=now),
        to_remove=count(ClientMembership, organization=OuterRef("pk")),
        to_cancel=count(OAuthState, organization_id=OuterRef("pk")),
    )


def organization_offboard(*, acting_user: User | None, organization: ClientOrganization, reason: str) -> bool:
    """Stop serving a client that left: delete its DocuSign secrets and access, keep its records (docs/security.md TS-6).

    Deletes its DocuSign connections, its system user's cached JWT tokens and its OAuth sign-ins in progress, retires
    its account Connect HMAC keys (partner keys are shared and stay), revokes pending invitations and removes its
    members, so its onboarding pages are 404 for them like any other organization's. Tasks queued before find it
    offboarded when they start and make no DocuSign call (`tenants.active`). See OFFBOARDING_RETENTION for what stays.
    Returns False, changing nothing, when it was offboarded already. An empty reason raises ValidationError.
    """
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the client is offboarded (it is kept in the audit history)."})
    with transaction.atomic():
        locked = (ClientOrganization.objects.select_for_update(of=("self",)).select_related("system_user")
                  .get(pk=organization.pk))
        if locked.offboarded_at is not None:
            return False
        now = timezone.now()
        connections = list(DocuSignCredential.objects.filter(organization=locked).select_related("user", "organization"))
        for credential in connections:
            credential_disconnect(acting_user=acting_user, credential=credential)
        system_user = getattr(locked, "system_user", None)
        tokens = forget_impersonation_token(locked.environment, system_user.user_id) if system_user else 0
        oauth_states, _ = OAuthState.objects.filter(organization_id=locked.pk).delete()
        keys = ConnectHMACKey.objects.filter(organization=locked, scope=HMACKeyScope.ACCOUNT, active=True)
        retired = sum(connect_hmac_key_retire(acting_user=acting_user, key=key) for key in keys)
        # Expiring a pending invitation keeps the record; its link then says "expired" and can no longer be accepted.
        revoked = Invitation.objects.filter(organization=locked, accepted_at__isnull=True, expires_at__gt=now).update(
            expires_at=now)
        members = list(ClientMembership.objects.filter(organization=locked).select_related("user").order_by("pk"))
        ClientMembership.objects.filter(pk__in=[m.pk for m in members]).delete()
        ClientOrganization.objects.filter(pk=locked.pk).update(offboarded_at=now, offboarding_reason=reason[:500],
                                                               updated=now)
        audit.record(
            actor=acting_user, action="organization.offboard", organization=locked, target=locked,
            before={"offboarded_at": None},
            after={"offboarded_at": now, "reason": reason[:500], "connections_deleted": len(connections),
                   "cached_tokens_deleted": tokens, "oauth_states_deleted": oauth_states,
                   "account_hmac_keys_retired": retired, "invitations_revoked": revoked,
                   "members_removed": [{"user": m.user.get_username(), "role": m.role} for m in members]},
        )
    organization.offboarded_at, organization.offboarding_reason = now, reason[:500]
    return True


def organization_reactivate(*, acting_user: User | None, organization: ClientOrganization) -> bool:
    """Serve an offboarded client again; False, changing nothing, when it is active.

    Nothing deleted comes back: staff invite a client admin again, who connects to DocuSign again; account Connect
    HMAC keys are added again; the system user's consent is checked again before background work resumes.
    """
    with transaction.atomic():
        locked = ClientOrganization.objects.select_for_update().get(pk=organization.pk)
        if locked.offboarded_at is None:
            return False
        ClientOrganization.objects.filter(pk=locked.pk).update(offboarded_at=None, offboarding_reason="",
                                                               updated=timezone.now())
        audit.record(actor=acting_user, action="organization.reactivate", organization=locked, target=locked,
                     before={"offboarded_at": locked.offboarded_at, "reason": locked.offboarding_reason},
                     after={"offboarded_at": None})
    organization.offboarded_at, organization.offboarding_reason = None, ""
    return True
