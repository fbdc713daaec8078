"""Changes to a sent envelope that its sender asks for: void it, resend its notifications (the ISV's API uses them).

Named services: DocuSign is asked first (through esign_envelopes), then the portal records what changed and audits it.
`acting_user` None is the ISV's API, which speaks as the organization's system user; `audit_extra` then names the API
key by its prefix.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from docusign_integration.client import envelopes as esign_envelopes
from docusign_integration.envelopes.models.envelopes import CreatedVia, Envelope, EnvelopeStatus
from docusign_integration.envelopes.sending import identity_for
from docusign_integration.envelopes.status import FINAL_STATUSES, EnvelopeSummary, envelope_status_apply
from tenants import audit

MAX_VOID_REASON = 200  # DocuSign's voidedReason limit


def envelope_void(*, acting_user: User | None, envelope: Envelope, reason: str,
                  audit_extra: Mapping[str, object] | None = None) -> Envelope:
    """Void a sent envelope in DocuSign, then record it voided. A draft or a finished envelope is refused unchanged."""
    reason = reason.strip()
    if not reason or len(reason) > MAX_VOID_REASON:
        raise ValidationError(f"A void reason is 1 to {MAX_VOID_REASON} characters.")
    if envelope.status == EnvelopeStatus.CREATED or envelope.status in FINAL_STATUSES:
        raise ValidationError(f"Only a sent envelope can be voided; this one is {envelope.get_status_display().lower()}.")
    identity = identity_for(acting_user, envelope.organization)
    identity.call(lambda bearer: esign_envelopes.void_envelope(identity.ref, envelope.envelope_id, bearer=bearer,
                                                               reason=reason))
    with transaction.atomic():
        envelope_status_apply(organization=envelope.organization, envelope_id=envelope.envelope_id,
                              status=EnvelopeStatus.VOIDED, changed_at=timezone.now(), source=CreatedVia.PORTAL,
                              summary=EnvelopeSummary(voided_reason=reason))
        audit.record(actor=acting_user, action="envelope.void", organization=envelope.organization,
                     target=f"envelope {envelope.envelope_id}", after={"reason": reason, **(audit_extra or {})})
    envelope.refresh_from_db()
    return envelope


def envelope_resend(*, acting_user: User | None, envelope: Envelope,
                    audit_extra: Mapping[str, object] | None = None) -> None:
    """Ask DocuSign to notify the envelope's current recipients again; only while it is out for signature."""
    if envelope.status not in (EnvelopeStatus.SENT, EnvelopeStatus.DELIVERED, EnvelopeStatus.SIGNED):
        raise ValidationError(f"Only an envelope out for signature can be resent; this one is "
                              f"{envelope.get_status_display().lower()}.")
    identity = identity_for(acting_user, envelope.organization)
    identity.call(lambda bearer: esign_envelopes.resend_envelope(identity.ref, envelope.envelope_id, bearer=bearer))
    audit.record(actor=acting_user, action="envelope.resend", organization=envelope.organization,
                 target=f"envelope {envelope.envelope_id}", after={**(audit_extra or {})})
