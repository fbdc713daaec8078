"""The sandbox's state: what DocuSign's account server and eSignature service would hold.

The sandbox is DocuSign, not the portal: it imports nothing from the portal's apps. Tokens and
authorization codes are stored as SHA-256 hashes, as a real authorization server does, so a database dump
never shows a live token. HMAC secrets and the seeded client secret are the sandbox's own (DocuSign's side)
and live only in these `docusign_sandbox_*` tables.
"""

from __future__ import annotations

import uuid

from django.db import models


def new_guid() -> str:
    return str(uuid.uuid4())


class SandboxControl(models.Model):
    """One row: the sandbox clock and switches that tests and the console set through /_sandbox/."""

    clock_offset_seconds = models.FloatField(default=0)
    connect_drop_percent = models.PositiveSmallIntegerField(default=0)
    # DocuSign reports the hourly limit as 400 today and is said to be moving to 429 (docs/docusign.md §9).
    rate_limit_status = models.PositiveSmallIntegerField(default=400)

    @classmethod
    def get(cls) -> SandboxControl:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class IntegrationKey(models.Model):
    client_id = models.CharField(max_length=36, unique=True, default=new_guid)
    name = models.CharField(max_length=200)
    secret_hash = models.CharField(max_length=64, blank=True)  # sha256 hex of the client secret
    partner_account = models.ForeignKey("Account", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")  # holds the integratorManaged HMAC keys

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"


class RedirectURI(models.Model):
    integration_key = models.ForeignKey(IntegrationKey, on_delete=models.CASCADE, related_name="redirect_uris")
    uri = models.CharField(max_length=500)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["integration_key", "uri"], name="sandbox_unique_redirect")]


class RSAPublicKey(models.Model):
    integration_key = models.ForeignKey(IntegrationKey, on_delete=models.CASCADE, related_name="rsa_keys")
    key_id = models.CharField(max_length=36, default=new_guid)
    public_pem = models.TextField()


class Organization(models.Model):
    """A DocuSign organization (Admin): claimed domains and org admins who may grant consent org-wide."""

    organization_id = models.CharField(max_length=36, unique=True, default=new_guid)
    name = models.CharField(max_length=200)
    admins = models.ManyToManyField("docusign_sandbox.User", related_name="administered_organizations", blank=True)

    def __str__(self) -> str:
        return self.name


class ClaimedDomain(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="claimed_domains")
    domain = models.CharField(max_length=253, unique=True)


class Account(models.Model):
    account_id = models.CharField(max_length=36, unique=True, default=new_guid)
    account_number = models.CharField(max_length=20, unique=True)  # the "external account number"
    name = models.CharField(max_length=200)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="accounts")
    # accountSettingsInformation: string-typed values, as DocuSign returns them.
    settings = models.JSONField(default=dict, blank=True)
    hourly_limit = models.PositiveIntegerField(default=3000)
    burst_limit = models.PositiveIntegerField(default=500)

    def __str__(self) -> str:
        return f"{self.name} ({self.account_id})"

    @property
    def connect_enabled(self) -> bool:
        return self.settings.get("envelopeIntegrationEnabled", "true") == "true"


class User(models.Model):
    user_id = models.CharField(max_length=36, unique=True, default=new_guid)
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200)
    password = models.CharField(max_length=200)  # Django password hash
    created = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.email

    @property
    def email_domain(self) -> str:
        return self.email.rsplit("@", 1)[-1].lower()


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    is_admin = models.BooleanField(default=False)
    is_default = models.BooleanField(default=False)
    permission_profile = models.CharField(max_length=100, default="DocuSign Sender")
    user_settings = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "account"], name="sandbox_unique_membership")]


class Consent(models.Model):
    """Individual consent: a user approved scopes for an integration key (revoked in Connected apps)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="consents")
    integration_key = models.ForeignKey(IntegrationKey, on_delete=models.CASCADE, related_name="consents")
    scopes = models.CharField(max_length=500)  # space-separated
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "integration_key"], name="sandbox_unique_consent")]


class OrganizationConsent(models.Model):
    """Admin consent (admin_consent_scope): covers every user whose email is in a claimed domain."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="consents")
    integration_key = models.ForeignKey(IntegrationKey, on_delete=models.CASCADE, related_name="org_consents")
    scopes = models.CharField(max_length=500)
    granted_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "integration_key"],
                                               name="sandbox_unique_org_consent")]


class AuthorizationCode(models.Model):
    code_hash = models.CharField(max_length=64, unique=True)
    integration_key = models.ForeignKey(IntegrationKey, on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    redirect_uri = models.CharField(max_length=500)
    scopes = models.CharField(max_length=500)
    code_challenge = models.CharField(max_length=128, blank=True)
    code_challenge_method = models.CharField(max_length=10, blank=True)
    expires_at = models.DateTimeField()
    used = models.BooleanField(default=False)


class AccessToken(models.Model):
    token_hash = models.CharField(max_length=64, unique=True)
    integration_key = models.ForeignKey(IntegrationKey, on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_tokens")
    scopes = models.CharField(max_length=500)
    source = models.CharField(max_length=20)  # jwt | authorization_code | refresh_token
    expires_at = models.DateTimeField()
    created = models.DateTimeField(auto_now_add=True)


class RefreshToken(models.Model):
    token_hash = models.CharField(max_length=64, unique=True)
    integration_key = models.ForeignKey(IntegrationKey, on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_tokens")
    scopes = models.CharField(max_length=500)
    expires_at = models.DateTimeField()
    revoked = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)


class HMACKey(models.Model):
    """A Connect HMAC secret of an account (the partner's account for integratorManaged configs)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="hmac_keys")
    key_id = models.CharField(max_length=36, default=new_guid)
    secret = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)


class Envelope(models.Model):
    envelope_id = models.CharField(max_length=36, unique=True, default=new_guid)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="envelopes")
    sender = models.ForeignKey(User, on_delete=models.PROTECT, related_name="sent_envelopes")
    status = models.CharField(max_length=20, default="created")
    email_subject = models.CharField(max_length=200, blank=True)
    email_blurb = models.TextField(blank=True)
    voided_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField()
    last_modified_at = models.DateTimeField()
    transaction_id = models.CharField(max_length=100, blank=True)
    # `workflow` as DocuSign returns it (workflowStatus, workflowSteps, currentWorkflowStepId): see workflow.py.
    workflow = models.JSONField(default=dict, blank=True)
    resent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "status_changed_at"])]


class Document(models.Model):
    envelope = models.ForeignKey(Envelope, on_delete=models.CASCADE, related_name="documents")
    document_id = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    file_extension = models.CharField(max_length=10, default="pdf")
    content = models.BinaryField()
    order = models.PositiveIntegerField(default=1)


class Recipient(models.Model):
    envelope = models.ForeignKey(Envelope, on_delete=models.CASCADE, related_name="recipients")
    recipient_id = models.CharField(max_length=20)
    recipient_id_guid = models.CharField(max_length=36, default=new_guid)
    recipient_type = models.CharField(max_length=30, default="signer")  # signer | carbonCopy | ...
    email = models.EmailField()
    name = models.CharField(max_length=200)
    routing_order = models.PositiveIntegerField(default=1)
    client_user_id = models.CharField(max_length=100, blank=True)
    role_name = models.CharField(max_length=100, blank=True)  # the template role it fills
    status = models.CharField(max_length=20, default="created")
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    declined_reason = models.CharField(max_length=200, blank=True)
    tabs = models.JSONField(default=dict, blank=True)


class ViewToken(models.Model):
    """A one-time URL for the sender view or a recipient (signing) view."""

    token_hash = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=20)  # sender | recipient
    envelope = models.ForeignKey(Envelope, on_delete=models.CASCADE)
    recipient = models.ForeignKey(Recipient, null=True, blank=True, on_delete=models.CASCADE)
    return_url = models.CharField(max_length=470)
    settings = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField()
    used = models.BooleanField(default=False)


class ConnectConfiguration(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="connect_configurations")
    # connectCustomConfiguration as stored (string-typed), without connectId (the primary key is that).
    body = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    @property
    def connect_id(self) -> str:
        return str(self.pk)


class ConnectDelivery(models.Model):
    """One Connect message to one configuration: its attempts, and a failure entry while it fails."""

    PENDING, DELIVERED, FAILED, DROPPED = "pending", "delivered", "failed", "dropped"
    configuration = models.ForeignKey(ConnectConfiguration, null=True, on_delete=models.SET_NULL,
                                      related_name="deliveries")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="connect_deliveries")
    envelope_id = models.CharField(max_length=36, db_index=True)
    event = models.CharField(max_length=60)
    url = models.CharField(max_length=500)
    payload = models.JSONField()  # the SIM message; retryCount is set at send time
    status = models.CharField(max_length=20, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)


class RequestLog(models.Model):
    at = models.DateTimeField(db_index=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status = models.PositiveIntegerField()
    account_id = models.CharField(max_length=36, blank=True, db_index=True)
    user_id = models.CharField(max_length=36, blank=True)
    envelope_id = models.CharField(max_length=36, blank=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["account_id", "at"])]


class Fault(models.Model):
    """Fault injection: the next `remaining` requests whose path matches `path_pattern` (a regex)."""

    KINDS = ["500", "502", "503", "429", "timeout", "drop", "malformed"]
    path_pattern = models.CharField(max_length=300)
    kind = models.CharField(max_length=20)
    remaining = models.PositiveIntegerField(default=1)
    created = models.DateTimeField(auto_now_add=True)


class Template(models.Model):
    """A server template: the envelope definition it stamps out (documents, roles, tabs), as sent to create it.

    `definition` holds DocuSign's `envelopeTemplate` body less its summary fields: `documents` (each with its
    documentBase64, converted to PDF at creation), `recipients` (roles, with `roleName`), `emailSubject`,
    `emailBlurb`, `customFields`.
    """

    template_id = models.CharField(max_length=36, unique=True, default=new_guid)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="templates")
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="templates")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    definition = models.JSONField(default=dict)
    created = models.DateTimeField()
    last_modified = models.DateTimeField()


class EnvelopeCustomField(models.Model):
    """One envelope custom field (text or list): metadata the sender attaches, filterable in list status changes."""

    TEXT, LIST = "text", "list"
    envelope = models.ForeignKey(Envelope, on_delete=models.CASCADE, related_name="custom_fields")
    field_id = models.CharField(max_length=20)
    kind = models.CharField(max_length=4, default=TEXT)
    name = models.CharField(max_length=100)
    value = models.CharField(max_length=500, blank=True)
    show = models.BooleanField(default=True)
    required = models.BooleanField(default=False)
    list_items = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["envelope", "name"], name="sandbox_unique_custom_field")]
        indexes = [models.Index(fields=["name", "value"])]
