"""Embedded sending and signing (product journeys 5 and 6): named operations the envelope pages call.

Who speaks to DocuSign (`sending_identity`): the signed-in client user's own "Connect to DocuSign" connection when it
reaches the organization's account, so envelopes go out in that person's name; otherwise the organization's system
user through JWT impersonation. Background work (polling, downloads) always uses the system user.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from tenants import audit
from tenants.models import ClientOrganization, ConsentStatus, SystemUser

from . import credentials, errors, esign_envelopes, tokens
from .envelope_status import EnvelopeSummary, envelope_status_apply, parse_docusign_datetime
from .models.credentials import CredentialStatus, DocuSignCredential
from .models.envelopes import CreatedVia, Envelope
from .rest import AccountRef

logger = logging.getLogger(__name__)
T = TypeVar("T")

# What DocuSign converts and the portal accepts, told apart by the file's first bytes, never by its name.
FILE_SIGNATURES = {"pdf": b"%PDF-", "docx": b"PK\x03\x04"}
DEFAULT_UPLOAD_MAX_BYTES = 25 * 1_048_576  # DocuSign's per-document limit (protocol §6.1)
MAX_RECIPIENTS = 20  # well inside DocuSign's 100; a portal form with more is a mistake


class SendingUnavailable(errors.DocuSignError):
    """Nobody can speak to DocuSign for this organization yet; the message says what to do."""

    default_message = ("This organization cannot send yet: connect to DocuSign, or have your system user grant consent, "
                       "and choose the organization's DocuSign account.")


class NotAnEmbeddedSigner(errors.DocuSignError):
    default_message = "This recipient signs by email from DocuSign, not here in the portal."


@dataclass(frozen=True)
class UploadedDocument:
    """A document checked to be a PDF or DOCX within the size cap."""

    name: str
    content: bytes = field(repr=False)
    file_extension: str


@dataclass(frozen=True)
class RecipientRequest:
    """A signer as the sending form names them; `embedded` signers sign in the portal (clientUserId)."""

    name: str
    email: str
    embedded: bool = False


@dataclass(frozen=True)
class SendingIdentity:
    """The account to call and a bearer token for it; `docusign_user_id` is whose token it is."""

    ref: AccountRef
    bearer: str = field(repr=False)
    docusign_user_id: str
    via: str  # "connection" or "system_user"

    def call(self, operation: Callable[[str], T]) -> T:
        """`operation(bearer)`; a system user's token that DocuSign no longer accepts is replaced once (checklist BG-1)."""
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


def sending_identity(user: AbstractBaseUser, organization: ClientOrganization) -> SendingIdentity:
    """The user's own connection when it reaches the organization's account, otherwise the system user."""
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


def _definition(subject: str, documents: Sequence[UploadedDocument],
                signers: Sequence[tuple[RecipientRequest, str]]) -> dict:
    return {
        "status": "created",  # a draft: the sender places fields and sends it in DocuSign's sender view
        "emailSubject": subject,
        "documents": [
            {"documentId": str(number), "name": document.name, "fileExtension": document.file_extension,
             "documentBase64": base64.b64encode(document.content).decode()}
            for number, document in enumerate(documents, start=1)
        ],
        "recipients": {"signers": [
            {"recipientId": str(number), "routingOrder": "1", "name": signer.name, "email": signer.email,
             **({"clientUserId": client_user_id} if client_user_id else {})}
            for number, (signer, client_user_id) in enumerate(signers, start=1)
        ]},
    }


def envelope_create_draft(*, acting_user: AbstractBaseUser, organization: ClientOrganization, subject: str,
                          documents: Sequence[UploadedDocument], recipients: Sequence[RecipientRequest]) -> Envelope:
    """Create a draft envelope in DocuSign and record it (created via the portal, audited)."""
    if not documents or not recipients:
        raise ValidationError("An envelope needs at least one document and one recipient.")
    if len(recipients) > MAX_RECIPIENTS:
        raise ValidationError(f"An envelope sent from the portal has at most {MAX_RECIPIENTS} recipients.")
    identity = sending_identity(acting_user, organization)
    # A clientUserId makes the signer embedded (protocol §6.1); it is the portal's own handle for the person.
    signers = [(r, uuid.uuid4().hex if r.embedded else "") for r in recipients]
    definition = _definition(subject, documents, signers)
    created = identity.call(lambda bearer: esign_envelopes.create_envelope(identity.ref, bearer=bearer, definition=definition))
    envelope_id = created["envelopeId"]
    summary = EnvelopeSummary(subject=subject, recipients=tuple(
        {"recipient_id": str(number), "name": signer.name, "email": signer.email, "status": "created",
         "client_user_id": client_user_id}
        for number, (signer, client_user_id) in enumerate(signers, start=1)))
    with transaction.atomic():
        envelope_status_apply(organization=organization, envelope_id=envelope_id, status="created",
                              changed_at=parse_docusign_datetime(created.get("statusDateTime"), "statusDateTime"),
                              source=CreatedVia.PORTAL, summary=summary)
        envelope = Envelope.objects.get(organization=organization, envelope_id=envelope_id)
        audit.record(actor=acting_user, action="envelope.create_draft", organization=organization,
                     target=f"envelope {envelope_id}",
                     after={"subject": subject, "documents": len(documents), "recipients": len(recipients),
                            "embedded_signers": sum(1 for r in recipients if r.embedded), "sent_as": identity.via})
    return envelope


def sender_view_url(*, acting_user: AbstractBaseUser, envelope: Envelope, return_url: str) -> str:
    """DocuSign's one-time "prepare and send" URL for a draft envelope (a top-level redirect, never a frame)."""
    identity = sending_identity(acting_user, envelope.organization)
    screen = getattr(settings, "DOCUSIGN_SENDER_VIEW_STARTING_SCREEN", "Tagger")
    return identity.call(lambda bearer: esign_envelopes.create_sender_view(
        identity.ref, envelope.envelope_id, bearer=bearer, return_url=return_url, starting_screen=screen))


def embedded_signer(envelope: Envelope, recipient_id: str) -> dict[str, str]:
    """The envelope's recipient `recipient_id` if it signs in the portal (has a clientUserId); else NotAnEmbeddedSigner."""
    for recipient in envelope.recipients:
        if recipient.get("recipient_id") == recipient_id and recipient.get("client_user_id"):
            return recipient
    raise NotAnEmbeddedSigner()


def signing_view_url(*, acting_user: AbstractBaseUser, envelope: Envelope, recipient_id: str, return_url: str) -> str:
    """DocuSign's 5-minute signing URL for an embedded signer of `envelope`."""
    signer = embedded_signer(envelope, recipient_id)
    identity = sending_identity(acting_user, envelope.organization)
    return identity.call(lambda bearer: esign_envelopes.create_recipient_view(
        identity.ref, envelope.envelope_id, bearer=bearer, return_url=return_url, client_user_id=signer["client_user_id"],
        email=signer["email"], user_name=signer["name"], recipient_id=signer["recipient_id"]))
