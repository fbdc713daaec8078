"""Client organizations, their DocuSign system users, portal memberships, invitations and the audit trail.

Rows here change only through the named write operations in `tenants.services` (and `tenants.onboarding`),
each of which records an `AuditEvent`.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from docusign_integration.client import conf
from docusign_integration.client.conf import ENVIRONMENT_CHOICES, SANDBOX
from docusign_integration.client.errors import UntrustedHost

GUID_PATTERN = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
guid_validator = RegexValidator(GUID_PATTERN, "Enter a DocuSign id: a GUID such as 0a1b2c3d-4e5f-6789-abcd-ef0123456789.")


def _base_uri_message(rule: str) -> str:
    return (f"Enter the account's base_uri as DocuSign's userinfo gives it: {rule}. Only the origin: no path, other port, "
            f"user name, query or unusual characters.")


def validate_base_uri(value: str) -> None:
    """A staff edit of a base_uri passes the same strict check as userinfo's answers (docs/security.md BI-2).

    A field validator cannot see the row's environment, so it allows any environment's hosts;
    `ClientOrganization.clean` then checks the organization's own.
    """
    environments = []
    for name, _ in ENVIRONMENT_CHOICES:
        try:
            environments.append(conf.get_environment(name))
        except ImproperlyConfigured:
            continue  # a broken DOCUSIGN_SANDBOX_URL (system checks say so) allows no sandbox host
    for environment in environments:
        try:
            environment.allowed_base_uri(value)
        except UntrustedHost:
            continue
        return
    rules = "; ".join(f"{environment.base_uri_rule} for {environment.name}" for environment in environments)
    raise ValidationError(_base_uri_message(rules), code="untrusted_base_uri")


class GUIDField(models.CharField):
    """A DocuSign id, stored and looked up in lower case.

    DocuSign compares its GUIDs case-insensitively. Keeping one spelling lets the unique constraint see two spellings
    as the same account, and lets an exact lookup use the index: `iexact` cannot, so at 10,000 organizations each
    Connect delivery would scan the table. Lookups (`=`, `__in`) are lowered too, through `get_prep_value`.
    """

    def to_python(self, value: object) -> object:
        value = super().to_python(value)
        return value.lower() if isinstance(value, str) else value


class OnboardingStatus(models.TextChoices):
    PROVISIONED = "provisioned", "Provisioned"
    INVITED = "invited", "Client admin invited"
    CONSENTED = "consented", "Consent granted"
    CONNECTED = "connected", "Connected to DocuSign"
    READY = "ready", "Ready"


class AccountSource(models.TextChoices):
    """Who settled the organization's DocuSign account: only staff's and the client admin's choices count as chosen."""

    CONSENT = "consent", "Recorded at consent (the system user's default account)"
    STAFF = "staff", "Set by ISV staff (a dedicated account)"
    CLIENT = "client", "Chosen by the client admin"
    UNKNOWN = "", "Not known yet"


class Health(models.TextChoices):
    """Derived, never stored: what ISV staff should look at first."""

    OK = "ok", "OK"
    PENDING = "pending", "Waiting for consent"
    FAILING = "failing", "Needs attention"


class Hosting(models.TextChoices):
    """Whose DocuSign account a client organization sends from (docs/docusign.md §10.1)."""

    OWN_ACCOUNT = "own_account", "Own DocuSign account"
    HOSTED = "hosted", "Hosted in the ISV account"


class ISVAccount(models.Model):
    """The ISV's own DocuSign account in one environment: it hosts many client organizations (docs/docusign.md §10.1).

    The portal administers it as `admin_user_id`, an administrator system user of the account reached with a JWT
    grant (no person's Authorization Code connection is needed). Each hosted client gets its own non-admin system user
    there, named by `system_user_email_pattern` on the ISV's claimed domain, so the ISV's one organization admin consent
    covers them all.
    """

    environment = models.CharField(max_length=20, choices=ENVIRONMENT_CHOICES, unique=True)
    account_id = GUIDField("DocuSign account id", max_length=36, validators=[guid_validator])
    base_uri = models.CharField(max_length=200, validators=[validate_base_uri],
                                help_text="The ISV account's eSignature host, from userinfo.")
    admin_user_id = GUIDField("Administrator system user id", max_length=36, validators=[guid_validator],
                              help_text="An administrator of the ISV account the portal impersonates (JWT grant).")
    system_user_email_pattern = models.CharField(
        max_length=200, default="docusign+{slug}@isv.example",
        help_text="Each hosted client's system user email; {slug} is the client's slug. Use the ISV's claimed domain.")
    permission_profile_name = models.CharField(max_length=100, default="Portal hosted client",
                                               help_text="The permission profile the portal keeps for hosted system users.")
    # One account-wide sweep for every hosted client (docusign_integration.hosting.sweep): its own watermark.
    sweep_watermark = models.DateTimeField(null=True, blank=True, help_text="Every status change before this has been read.")
    last_sweep_at = models.DateTimeField(null=True, blank=True)
    last_sweep_calls = models.PositiveIntegerField(default=0, help_text="DocuSign calls the last sweep made.")
    last_sweep_unroutable = models.PositiveIntegerField(
        default=0, help_text="Envelopes the last sweep gave to no client (no custom field, or not its sender's).")
    # What the last setup push or check found on the account (docusign_integration.hosting.isv_setup): the portal's
    # Connect configuration and account settings. The admin page reads these, never DocuSign.
    setup_status = models.CharField("DocuSign setup", max_length=20, default="unknown",
                                    help_text="in_sync, drifted, missing (no Connect configuration of the portal's), "
                                              "error, or unknown (never checked).")
    setup_drift = models.JSONField(default=list, blank=True, help_text="The fields whose value on the account differs.")
    connect_id = models.CharField("Connect configuration id", max_length=20, blank=True)
    setup_checked_at = models.DateTimeField(null=True, blank=True, help_text="Last time DocuSign was asked.")
    setup_last_error = models.CharField(max_length=500, blank=True,
                                        help_text="What went wrong last, in words a person can act on.")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "ISV account"

    def __str__(self) -> str:
        return f"ISV account {self.account_id} ({self.environment})"

    def system_user_email(self, slug: str) -> str:
        return self.system_user_email_pattern.replace("{slug}", slug)


class ClientOrganization(models.Model):
    """One of the ISV's clients: a DocuSign account (once known) in one DocuSign environment."""

    name = models.CharField(max_length=300)
    slug = models.SlugField(max_length=60, unique=True)
    environment = models.CharField(max_length=20, choices=ENVIRONMENT_CHOICES, default=SANDBOX)
    onboarding_status = models.CharField(max_length=20, choices=OnboardingStatus.choices, default=OnboardingStatus.PROVISIONED)
    hosting = models.CharField(max_length=20, choices=Hosting.choices, default=Hosting.OWN_ACCOUNT,
                               help_text="Own DocuSign account, or hosted in the ISV account with a system user the "
                                         "portal created.")
    # Set by staff for a dedicated account, chosen by the client admin, or (until they choose) recorded from the
    # system user's default account at consent: `account_source` says which.
    account_id = GUIDField("DocuSign account id", max_length=36, null=True, blank=True, validators=[guid_validator])
    account_name = models.CharField(max_length=200, blank=True)
    # Consent's recorded default is a placeholder the client admin may replace; staff's and the client's own are kept.
    account_source = models.CharField(max_length=20, choices=AccountSource.choices, blank=True, default="")
    base_uri = models.CharField(max_length=200, blank=True, validators=[validate_base_uri],
                                help_text="The account's eSignature host, from userinfo.")
    organization_id = GUIDField("DocuSign organization id", max_length=36, null=True, blank=True,
                                validators=[guid_validator])
    # Set by `organization_offboard` when the client leaves: nothing acts for it any more (docs/security.md TS-6).
    offboarded_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When ISV staff offboarded this client: its DocuSign connections and tokens were deleted and no "
                  "task calls DocuSign for it. Empty while the client is active.",
    )
    offboarding_reason = models.CharField(max_length=500, blank=True, help_text="Why staff offboarded the client.")
    # A hosted client's system user is created in the background (docusign_integration/hosting/tasks.py): empty while
    # that is pending or done, the reason in words when it failed for good.
    provisioning_error = models.CharField(max_length=500, blank=True, help_text="Why its DocuSign user could not be "
                                          "created in the ISV account (hosted clients); empty otherwise.")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        # The admin changelist's order (name, then -pk to be deterministic): its page of 100 is read in index order
        # instead of sorting 10,000 organizations with their health computed.
        indexes = [models.Index(fields=["name", "-id"], name="tenants_organization_name")]
        constraints = [
            # docs/security.md TI-5: one DocuSign account belongs to exactly one client organization, unless it is
            # the ISV account, which hosts many (their rows are `hosted`; services give them the ISV account only).
            models.UniqueConstraint(
                fields=["environment", "account_id"],
                condition=Q(account_id__isnull=False, hosting="own_account"),
                name="tenants_one_organization_per_own_account",
                violation_error_message="This DocuSign account is already linked to another client organization.",
            ),
            models.CheckConstraint(
                condition=Q(hosting="own_account") | Q(hosting="hosted", account_id__isnull=False),
                name="tenants_hosting_known_and_hosted_has_account",
                violation_error_message="A hosted client organization is in the ISV account.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_hosted(self) -> bool:
        return self.hosting == Hosting.HOSTED

    def clean(self) -> None:
        """The base_uri must be on this organization's environment's allowlist; it is stored normalised."""
        super().clean()
        if not self.base_uri or self.environment not in dict(ENVIRONMENT_CHOICES):
            return
        try:
            validate_base_uri(self.base_uri)
        except ValidationError:
            return  # clean_fields has reported it already
        environment = conf.get_environment(self.environment)
        try:
            self.base_uri = environment.allowed_base_uri(self.base_uri)
        except UntrustedHost:
            raise ValidationError({"base_uri": _base_uri_message(environment.base_uri_rule)}) from None


class ConsentStatus(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    REQUIRED = "required", "Consent required"
    GRANTED = "granted", "Granted"
    REVOKED = "revoked", "Revoked"


class ConsentType(models.TextChoices):
    INDIVIDUAL = "individual", "Individual consent"
    ORGANIZATION_ADMIN = "organization_admin", "Organization admin consent"
    __empty__ = "Not known yet"


class SystemUser(models.Model):
    """The DocuSign user that background work impersonates (JWT Grant) for one client organization."""

    organization = models.OneToOneField(ClientOrganization, on_delete=models.CASCADE, related_name="system_user")
    user_id = GUIDField("DocuSign user id", max_length=36, validators=[guid_validator])
    email = models.EmailField()
    consent_status = models.CharField(max_length=20, choices=ConsentStatus.choices, default=ConsentStatus.UNKNOWN)
    consent_type = models.CharField(max_length=20, choices=ConsentType.choices, blank=True, default="")
    scopes = models.CharField(max_length=200, blank=True, help_text="Space-separated scopes the last JWT grant obtained.")
    verified_at = models.DateTimeField(null=True, blank=True, help_text="Last time a JWT grant succeeded.")
    checked_at = models.DateTimeField(null=True, blank=True, help_text="Last time consent was checked.")
    account_id = GUIDField("Account found at consent", max_length=36, null=True, blank=True, validators=[guid_validator],
                           help_text="The account the last successful consent check settled on; staff see a conflict "
                                     "when the organization's chosen account differs.")
    last_error = models.CharField(max_length=500, blank=True, help_text="What went wrong last, in words a person can act on.")
    last_error_code = models.CharField(max_length=100, blank=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.email} ({self.organization})"

    @property
    def health(self) -> Health:
        if self.consent_status == ConsentStatus.GRANTED and not self.last_error:
            return Health.OK
        if self.consent_status in (ConsentStatus.UNKNOWN, ConsentStatus.REQUIRED) and not self.last_error:
            return Health.PENDING
        return Health.FAILING


class MembershipRole(models.TextChoices):
    ADMIN = "admin", "Client admin"
    MEMBER = "member", "Member"


class ClientMembership(models.Model):
    """A portal user's access to one client organization's onboarding pages."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="client_memberships")
    organization = models.ForeignKey(ClientOrganization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=MembershipRole.choices, default=MembershipRole.MEMBER)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="tenants_one_membership_per_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.get_role_display()})"


class Invitation(models.Model):
    """An emailed, signed, expiring, single-use invitation to become a member of a client organization.

    Only the token's SHA-256 is stored; the token itself exists in the email alone.
    """

    SIGNING_SALT = "tenants.invitation"

    organization = models.ForeignKey(ClientOrganization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=MembershipRole.choices, default=MembershipRole.ADMIN)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="When staff withdrew it; its link no longer works.")
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"Invitation for {self.email} to {self.organization}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def sign(cls, nonce: str) -> str:
        """The token sent by email: a random nonce signed with SECRET_KEY, so forged tokens never reach the database."""
        return signing.Signer(salt=cls.SIGNING_SALT).sign(nonce)

    @classmethod
    def find(cls, token: str) -> Invitation | None:
        """The invitation a token belongs to (pending, expired or used alike), or None for a tampered or unknown token."""
        try:
            signing.Signer(salt=cls.SIGNING_SALT).unsign(token)
        except signing.BadSignature:
            return None
        return cls.objects.select_related("organization").filter(token_hash=cls.hash_token(token)).first()

    def is_expired(self, now: datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.expires_at

    def is_pending(self, now: datetime | None = None) -> bool:
        return self.accepted_at is None and not self.is_expired(now)


class AuditEvent(models.Model):
    """One state change: who did what to which organization, with the fields before and after (never secrets)."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=64)
    organization = models.ForeignKey(
        ClientOrganization, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events",
    )
    target = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        indexes = [
            models.Index(fields=["organization", "-created"], name="tenants_audit_org_created"),
            models.Index(fields=["action", "-created"], name="tenants_audit_action_created"),
            models.Index(fields=["-created"], name="tenants_audit_created"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target}".strip()
