"""Embedded sending and signing (product journeys 5 and 6): named operations the envelope pages call.

Who speaks to DocuSign (`sending_identity`): the signed-in client user's own "Connect to DocuSign" connection when it
reaches the organization's account, so envelopes go out in that person's name; otherwise the organization's system
user through JWT impersonation. Background work (polling, downloads) always uses the system user.

Who may sign as an embedded signer (`EmbeddedSigner`): the person the sender bound to it when the envelope was
created, a portal user today (a member of the organization) or an end user of the ISV's product by the ISV's own id.
The clientUserId DocuSign knows is a random handle; the binding, not anything sent at signing time, says whose it is.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from docusign_integration.client import envelopes as esign_envelopes
from docusign_integration.client import errors
from docusign_integration.client.custom_fields import hosted_client_custom_fields
from docusign_integration.client.rest import AccountRef
from docusign_integration.envelopes.models.envelopes import CreatedVia, EmbeddedSigner, Envelope, SignerIdentityKind
from docusign_integration.envelopes.status import EnvelopeSummary, envelope_status_apply, parse_docusign_datetime
from docusign_integration.oauth import credentials, tokens
from docusign_integration.oauth.models.credentials import CredentialStatus, DocuSignCredential
from tenants import audit, readiness
from tenants.models import ClientMembership, ClientOrganization, ConsentStatus, SystemUser

logger = logging.getLogger(__name__)
T = TypeVar("T")

# What DocuSign converts and the portal accepts, told apart by the file's first bytes, never by its name.
FILE_SIGNATURES = {"pdf": b"%PDF-", "docx": b"PK\x03\x04"}
DEFAULT_UPLOAD_MAX_BYTES = 25 * 1_048_576  # DocuSign's per-document limit (docs/docusign.md §6.1)
MAX_RECIPIENTS = 20  # well inside DocuSign's 100; a portal form with more is a mistake
MAX_END_USER_ID = 200  # EmbeddedSigner.end_user_id


class SendingUnavailable(errors.DocuSignError):
    """Nobody can speak to DocuSign for this organization yet; the message says what to do."""

    default_message = ("This organization cannot send yet: connect to DocuSign, or have your system user grant consent, "
                       "and choose the organization's DocuSign account.")


class SetupRequired(SendingUnavailable):
    """An own-account client whose "Setup DocuSign account" step is not done: nothing is sent (tenants.readiness)."""

    default_message = readiness.SETUP_FIRST


class NotTheSigner(LookupError):
    """The person asking is not the one bound to this embedded signer, or there is no such signer: a 404."""


@dataclass(frozen=True)
class UploadedDocument:
    """A document checked to be a PDF or DOCX within the size cap."""

    name: str
    content: bytes = field(repr=False)
    file_extension: str


@dataclass(frozen=True)
class SignerIdentity:
    """Who an embedded signer is: a portal user (by pk), or an end user of the ISV's product (the ISV's opaque id)."""

    kind: str  # a SignerIdentityKind
    portal_user_id: int | None = None
    end_user_id: str = ""

    @classmethod
    def portal_user(cls, user: User) -> SignerIdentity:
        if user.pk is None:
            raise ValueError("An embedded signer's portal user must be a saved, signed-in user.")
        return cls(kind=SignerIdentityKind.PORTAL_USER, portal_user_id=user.pk)

    @classmethod
    def end_user(cls, end_user_id: str) -> SignerIdentity:
        value = end_user_id.strip()
        if not value or len(value) > MAX_END_USER_ID:
            raise ValueError(f"An end user id is 1 to {MAX_END_USER_ID} characters.")
        return cls(kind=SignerIdentityKind.END_USER, end_user_id=value)

    def is_bound_to(self, binding: EmbeddedSigner) -> bool:
        """Whether `binding` is this identity's (an unset value never matches: a deleted user binds nobody).

        A binding holds only the value of its own kind (the table's check constraint), so the values decide.
        """
        if self.kind == SignerIdentityKind.PORTAL_USER:
            return binding.portal_user_id is not None and binding.portal_user_id == self.portal_user_id
        return bool(binding.end_user_id) and binding.end_user_id == self.end_user_id

    def audit_value(self) -> dict[str, object]:
        if self.kind == SignerIdentityKind.PORTAL_USER:
            return {"kind": self.kind, "portal_user": self.portal_user_id}
        return {"kind": self.kind, "end_user_id": self.end_user_id}


@dataclass(frozen=True)
class RecipientRequest:
    """A signer as the sending form (or the ISV's API) names them; one `embedded_as` someone signs embedded (clientUserId).

    From a template, `role_name` is the template's role it fills, `recipient_id` that role's recipientId in the template
    and `tabs` the values of the role's text tabs by tabLabel (prefilled for the signer).
    """

    name: str
    email: str
    embedded_as: SignerIdentity | None = None
    role_name: str = ""
    recipient_id: str = ""
    tabs: Mapping[str, str] = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        return self.embedded_as is not None


@dataclass(frozen=True)
class SendingIdentity:
    """The account to call and a bearer token for it; `docusign_user_id` is whose token it is."""

    ref: AccountRef
    bearer: str = field(repr=False)
    docusign_user_id: str
    via: str  # "connection" or "system_user"

    def call(self, operation: Callable[[str], T]) -> T:
        """`operation(bearer)`; a system user's token that DocuSign no longer accepts is replaced once (docs/security.md BG-1)."""
        try:
            return operation(self.bearer)
        except errors.Unauthorized:
            if self.via != "system_user":
                raise
            # The cache thought the token live; DocuSign disagrees (revoked consent, clock skew): take a new grant.
            tokens.forget_impersonation_token(self.ref.environment, self.docusign_user_id)
            return operation(tokens.get_impersonation_token(self.ref.environment, self.docusign_user_id))


def upload_max_bytes() -> int:
    return int(getattr(settings, "DOCUSIGN_UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX_BYTES))


def check_document(name: str, content: bytes) -> UploadedDocument:
    """`content` as an UploadedDocument if it is a PDF or DOCX (by its magic bytes) within the cap; else ValidationError."""
    if not content:
        raise ValidationError("The file is empty.")
    if len(content) > upload_max_bytes():
        raise ValidationError(f"The file is larger than {upload_max_bytes() // 1_048_576} MB, DocuSign's limit per document.")
    extension = next((ext for ext, signature in FILE_SIGNATURES.items() if content.startswith(signature)), None)
    if extension is None:
        raise ValidationError("Upload a PDF or a Word (.docx) document.")
    if extension == "docx" and b"word/" not in content[:65536]:  # any ZIP starts with PK: a DOCX holds word/
        raise ValidationError("Upload a PDF or a Word (.docx) document.")
    stem = (name.rsplit(".", 1)[0] if "." in name else name).strip()[:150] or "Document"
    return UploadedDocument(name=f"{stem}.{extension}", content=content, file_extension=extension)


def require_setup(organization: ClientOrganization) -> None:
    """Refuse to send for an own-account client before its setup step is done (the checklist's fact, one query): without
    the portal's Connect configuration DocuSign would not report the envelope. Hosted clients: the ISV set its account up."""
    if not readiness.facts_of(organization).setup_done:
        raise SetupRequired()


def account_ref(organization: ClientOrganization) -> AccountRef:
    """The organization's DocuSign account, or SendingUnavailable when it has not been chosen yet."""
    if not organization.account_id or not organization.base_uri:
        raise SendingUnavailable("Choose the organization's DocuSign account first (onboarding checklist).")
    return AccountRef(organization.environment, organization.account_id, organization.base_uri)


def system_user_identity(organization: ClientOrganization) -> SendingIdentity:
    """The organization's system user (JWT impersonation), for background work and as the senders' fallback."""
    ref = account_ref(organization)
    system_user = SystemUser.objects.filter(organization=organization).first()
    if system_user is None or system_user.consent_status != ConsentStatus.GRANTED:
        raise SendingUnavailable("The organization's system user has not granted consent yet (onboarding checklist).")
    bearer = tokens.get_impersonation_token(organization.environment, system_user.user_id)
    return SendingIdentity(ref=ref, bearer=bearer, docusign_user_id=system_user.user_id, via="system_user")


def sending_identity(user: User, organization: ClientOrganization) -> SendingIdentity:
    """The user's own connection when it reaches the organization's account, otherwise the system user.

    A hosted client always sends as its own system user: a person's connection to the ISV account could send (and,
    with account-wide access, read) as someone other than that client (docs/docusign.md §10.1).
    """
    if organization.is_hosted:
        return system_user_identity(organization)
    ref = account_ref(organization)
    credential = DocuSignCredential.objects.filter(organization=organization, user_id=user.pk,
                                                   status=CredentialStatus.OK).first()
    if credential is not None and any(a.get("account_id", "").lower() == ref.account_id.lower() for a in credential.accounts):
        try:
            bearer = credentials.get_valid_access_token(credential)
        except credentials.ReconnectRequired:
            logger.info("sending_identity connection_unusable organization=%s user=%s", organization.pk, user.pk)
        else:
            return SendingIdentity(ref=ref, bearer=bearer, docusign_user_id=credential.docusign_user_id, via="connection")
    return system_user_identity(organization)


def portal_user_name(user: User) -> str:
    """How a portal user is named to DocuSign and on the pages: their full name, else their username."""
    return (getattr(user, "get_full_name", lambda: "")() or "").strip() or user.get_username()


def embedded_signer_candidates(organization: ClientOrganization) -> list[User]:
    """The portal users who can be an embedded signer of `organization`'s envelopes: its active members (one query)."""
    memberships = (ClientMembership.objects.filter(organization=organization, user__is_active=True)
                   .select_related("user").order_by("user__first_name", "user__last_name", "user__username"))
    return [membership.user for membership in memberships]


def _check_portal_signers(organization: ClientOrganization, recipients: Sequence[RecipientRequest]) -> None:
    """Only active members of the organization sign its envelopes in the portal (the form offers only them too)."""
    wanted = {r.embedded_as.portal_user_id for r in recipients
              if r.embedded_as is not None and r.embedded_as.kind == SignerIdentityKind.PORTAL_USER}
    members = set(ClientMembership.objects.filter(organization=organization, user_id__in=wanted, user__is_active=True)
                  .values_list("user_id", flat=True)) if wanted else set()
    if wanted - members:
        raise ValidationError(f"Only active members of {organization.name} sign here in the portal.")


def _custom_fields(metadata: Mapping[str, str]) -> dict:
    # Envelope custom fields, hidden from recipients (docs/docusign.md §6.1): the ISV's own keys, kept with the envelope.
    return {"textCustomFields": [{"name": key, "value": value, "show": "false", "required": "false"}
                                 for key, value in metadata.items()]}


def _definition(organization: ClientOrganization, subject: str, documents: Sequence[UploadedDocument],
                signers: Sequence[tuple[RecipientRequest, str]], *, status: str = "created", template_id: str = "",
                metadata: Mapping[str, str] | None = None) -> dict:
    """The envelopeDefinition: documents with signers, or a server template with its roles filled in."""
    definition: dict = {"status": status, "emailSubject": subject}
    fields = _custom_fields(metadata or {})["textCustomFields"]
    if organization.is_hosted:  # a hosted client's envelope names it in a hidden custom field: Connect and the sweep route by it
        fields += hosted_client_custom_fields(organization.slug)["textCustomFields"]
    if fields:
        definition["customFields"] = {"textCustomFields": fields}
    if template_id:
        # Reference: https://developers.docusign.com/docs/esign-rest-api/how-to/request-signature-template-remote/
        definition["templateId"] = template_id
        definition["templateRoles"] = [
            {"roleName": signer.role_name, "name": signer.name, "email": signer.email,
             **({"clientUserId": client_user_id} if client_user_id else {}),
             **({"tabs": {"textTabs": [{"tabLabel": label, "value": value} for label, value in signer.tabs.items()]}}
                if signer.tabs else {})}
            for signer, client_user_id in signers]
        return definition
    definition["documents"] = [
        {"documentId": str(number), "name": document.name, "fileExtension": document.file_extension,
         "documentBase64": base64.b64encode(document.content).decode()}
        for number, document in enumerate(documents, start=1)
    ]
    definition["recipients"] = {"signers": [
        {"recipientId": str(number), "routingOrder": "1", "name": signer.name, "email": signer.email,
         **({"clientUserId": client_user_id} if client_user_id else {})}
        for number, (signer, client_user_id) in enumerate(signers, start=1)
    ]}
    return definition


def identity_for(acting_user: User | None, organization: ClientOrganization) -> SendingIdentity:
    """Who speaks to DocuSign: a signed-in person as `sending_identity` says; the ISV's API (no person) the system user."""
    return system_user_identity(organization) if acting_user is None else sending_identity(acting_user, organization)


def envelope_create_draft(*, acting_user: User, organization: ClientOrganization, subject: str,
                          documents: Sequence[UploadedDocument], recipients: Sequence[RecipientRequest]) -> Envelope:
    """Create a draft envelope in DocuSign and record it (created via the portal, audited)."""
    return envelope_create(acting_user=acting_user, organization=organization, subject=subject, documents=documents,
                           recipients=recipients)


def envelope_create(*, acting_user: User | None, organization: ClientOrganization, subject: str,
                    recipients: Sequence[RecipientRequest], documents: Sequence[UploadedDocument] = (),
                    template_id: str = "", send: bool = False, metadata: Mapping[str, str] | None = None,
                    audit_extra: Mapping[str, object] | None = None,
                    on_recorded: Callable[[Envelope], None] | None = None) -> Envelope:
    """Create an envelope in DocuSign (a draft, or sent) from documents or a template, and record it (audited).

    `acting_user` None is the ISV's API: the system user sends, and `audit_extra` names the API key by its prefix;
    `on_recorded` writes the caller's own rows about the envelope in the transaction that records it.
    """
    if (not documents and not template_id) or not recipients:
        raise ValidationError("An envelope needs at least one document (or a template) and one recipient.")
    if len(recipients) > MAX_RECIPIENTS:
        raise ValidationError(f"An envelope sent from the portal has at most {MAX_RECIPIENTS} recipients.")
    _check_portal_signers(organization, recipients)
    require_setup(organization)
    identity = identity_for(acting_user, organization)
    # A clientUserId makes the signer embedded (docs/docusign.md §6.1): a random handle, so it says nothing of who the person
    # is; the EmbeddedSigner row written below does.
    signers = [(r, uuid.uuid4().hex if r.embedded else "") for r in recipients]
    status = "sent" if send else "created"
    definition = _definition(organization, subject, documents, signers, status=status, template_id=template_id, metadata=metadata)
    created = identity.call(lambda bearer: esign_envelopes.create_envelope(identity.ref, bearer=bearer, definition=definition))
    envelope_id = created["envelopeId"]
    numbered = [(signer.recipient_id or str(number), signer, client_user_id)
                for number, (signer, client_user_id) in enumerate(signers, start=1)]
    summary = EnvelopeSummary(subject=subject, recipients=tuple(
        {"recipient_id": recipient_id, "name": signer.name, "email": signer.email, "status": status,
         "client_user_id": client_user_id}
        for recipient_id, signer, client_user_id in numbered))
    with transaction.atomic():
        envelope_status_apply(organization=organization, envelope_id=envelope_id, status=status,
                              changed_at=parse_docusign_datetime(created.get("statusDateTime"), "statusDateTime"),
                              source=CreatedVia.PORTAL, summary=summary, on_recorded=on_recorded)
        envelope = Envelope.objects.get(organization=organization, envelope_id=envelope_id)
        bindings = [(recipient_id, signer.embedded_as, client_user_id)
                    for recipient_id, signer, client_user_id in numbered if signer.embedded_as]
        EmbeddedSigner.objects.bulk_create([
            EmbeddedSigner(envelope=envelope, recipient_id=recipient_id, client_user_id=client_user_id,
                           identity_kind=who.kind, portal_user_id=who.portal_user_id, end_user_id=who.end_user_id)
            for recipient_id, who, client_user_id in bindings])
        audit.record(actor=acting_user, action="envelope.create_draft" if not send else "envelope.create_sent",
                     organization=organization, target=f"envelope {envelope_id}",
                     after={"subject": subject, "documents": len(documents), "template_id": template_id,
                            "recipients": len(recipients),
                            "embedded_signers": [{"recipient_id": recipient_id, **who.audit_value()}
                                                 for recipient_id, who, _ in bindings],
                            "sent_as": identity.via, **(audit_extra or {})})
    return envelope


def sender_view_url(*, acting_user: User | None, envelope: Envelope, return_url: str) -> str:
    """DocuSign's one-time "prepare and send" URL for a draft envelope (a top-level redirect, never a frame)."""
    require_setup(envelope.organization)  # a draft made before the account changed must not be sent either
    identity = identity_for(acting_user, envelope.organization)
    screen = getattr(settings, "DOCUSIGN_SENDER_VIEW_STARTING_SCREEN", "Tagger")
    return identity.call(lambda bearer: esign_envelopes.create_sender_view(
        identity.ref, envelope.envelope_id, bearer=bearer, return_url=return_url, starting_screen=screen))


def bound_signer(envelope: Envelope, recipient_id: str, identity: SignerIdentity) -> tuple[EmbeddedSigner, dict[str, str]]:
    """The envelope's embedded signer `recipient_id` and DocuSign's latest record of it, if it is bound to `identity`.

    NotTheSigner otherwise: no such recipient, a remote signer, a signer nobody was bound to, or somebody else's.
    """
    binding = EmbeddedSigner.objects.filter(envelope=envelope, recipient_id=recipient_id).first()
    recipient = next((r for r in envelope.recipients if r.get("recipient_id") == recipient_id), None)
    if binding is None or recipient is None or not identity.is_bound_to(binding):
        raise NotTheSigner()
    return binding, recipient


def signing_view_url(*, acting_user: User, envelope: Envelope, recipient_id: str, return_url: str) -> str:
    """DocuSign's 5-minute signing URL for the embedded signer of `envelope` that `acting_user` is; else NotTheSigner."""
    try:
        binding, recipient = bound_signer(envelope, recipient_id, SignerIdentity.portal_user(acting_user))
    except NotTheSigner:
        logger.warning("signing_view_refused reason=not_the_signer user=%s envelope=%s recipient=%r",
                       acting_user.pk, envelope.envelope_id, recipient_id[:100])
        raise
    return _recipient_view(sending_identity(acting_user, envelope.organization), envelope, binding, recipient,
                           return_url=return_url)


def end_user_signing_view_url(*, envelope: Envelope, recipient_id: str, end_user_id: str, return_url: str,
                              frame_ancestors: Sequence[str] = (), message_origins: Sequence[str] = ()) -> str:
    """The signing URL (focused view with `frame_ancestors`) for the ISV's end user bound to the signer; else NotTheSigner.

    Checked before any DocuSign call: the binding written when the envelope was created, not anything the ISV sends now
    besides its end user's id, decides (a wrong id asks DocuSign nothing).
    """
    try:
        binding, recipient = bound_signer(envelope, recipient_id, SignerIdentity.end_user(end_user_id))
    except (NotTheSigner, ValueError):
        logger.warning("signing_view_refused reason=not_the_end_user envelope=%s recipient=%r",
                       envelope.envelope_id, recipient_id[:100])
        raise NotTheSigner() from None
    return _recipient_view(system_user_identity(envelope.organization), envelope, binding, recipient,
                           return_url=return_url, frame_ancestors=list(frame_ancestors),
                           message_origins=list(message_origins))


def _recipient_view(identity: SendingIdentity, envelope: Envelope, binding: EmbeddedSigner, recipient: dict[str, str], *,
                    return_url: str, frame_ancestors: list[str] | None = None,
                    message_origins: list[str] | None = None) -> str:
    # The clientUserId comes from the binding; name and email are DocuSign's latest (they must match its recipient).
    return identity.call(lambda bearer: esign_envelopes.create_recipient_view(
        identity.ref, envelope.envelope_id, bearer=bearer, return_url=return_url,
        client_user_id=binding.client_user_id, email=recipient["email"], user_name=recipient["name"],
        recipient_id=binding.recipient_id, frame_ancestors=frame_ancestors, message_origins=message_origins))
