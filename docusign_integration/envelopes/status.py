"""The envelope status state machine: every source of news (portal send, Connect, polling) applies it here.

DocuSign gives no ordering guarantee for Connect messages (docs/security.md WH-5) and polling can overlap them,
so a status only moves forward: created < sent < delivered < signed < completed, and completed, declined and
voided are final. A late, older message therefore never regresses an envelope, and two messages with the same
`changed_at` are settled by that order, never by arrival. Applying the same news twice changes nothing. The subject
and the recipients' names, emails and clientUserIds are taken only from news at least as new as the stored
`status_changed_at`; an older message can still move a known recipient's status forward, nothing else.

What a completed envelope sets off is `envelope_completed`, called directly after the transaction that completed
it commits, once per envelope: no registry, so it never depends on which modules a process happened to import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from docusign_integration.envelopes.models.envelopes import CreatedVia, Envelope, EnvelopeStatus
from outbound_events import outbox
from tenants import audit
from tenants.models import ClientOrganization

logger = logging.getLogger(__name__)

# Position in the lifecycle; a status moves only to a higher rank, and never away from a final one.
STATUS_RANK: dict[str, int] = {
    EnvelopeStatus.CREATED: 0, EnvelopeStatus.SENT: 1, EnvelopeStatus.DELIVERED: 2, EnvelopeStatus.SIGNED: 3,
    EnvelopeStatus.COMPLETED: 4, EnvelopeStatus.DECLINED: 4, EnvelopeStatus.VOIDED: 4,
}
FINAL_STATUSES = frozenset({EnvelopeStatus.COMPLETED, EnvelopeStatus.DECLINED, EnvelopeStatus.VOIDED})
# The date column each status stamps when it is first reached.
STATUS_DATE_FIELD: dict[str, str] = {
    EnvelopeStatus.SENT: "sent_at", EnvelopeStatus.DELIVERED: "delivered_at", EnvelopeStatus.COMPLETED: "completed_at",
    EnvelopeStatus.DECLINED: "declined_at", EnvelopeStatus.VOIDED: "voided_at",
}
# Recipient statuses (DocuSign's words) in lifecycle order; declined is final like completed.
RECIPIENT_RANK = {"created": 0, "sent": 1, "autoresponded": 1, "authenticationfailed": 1, "delivered": 2,
                  "signed": 3, "completed": 4, "declined": 4}
RECIPIENT_FINAL = frozenset({"completed", "declined"})
# DocuSign's `recipients` collections that hold people (docs/docusign.md §6.1).
RECIPIENT_COLLECTIONS = ("signers", "carbonCopies", "certifiedDeliveries", "agents", "editors", "intermediaries",
                         "inPersonSigners", "witnesses", "seals")
MAX_RECIPIENTS = 100  # more than any real envelope routes to; bounds a hostile summary (docs/security.md BI-4)


class SummaryError(ValueError):
    """An envelope summary that cannot be read: wrong types or impossible values (the message says which)."""


@dataclass(frozen=True)
class EnvelopeSummary:
    """What DocuSign says about an envelope beyond its status: the envelopeSummary of Connect or a GET envelope."""

    subject: str | None = None
    sender_email: str | None = None
    voided_reason: str | None = None
    dates: Mapping[str, datetime] = field(default_factory=dict)  # sent_at, delivered_at, ... -> DocuSign's time
    recipients: tuple[dict[str, str], ...] | None = None  # None: not included in the message

    @classmethod
    def from_docusign(cls, data: Mapping[str, Any]) -> EnvelopeSummary:
        """Read DocuSign's envelope JSON (camelCase, docs/docusign.md §7.3, §6.4); raise SummaryError on bad types."""
        dates = {}
        for key, name in (("sentDateTime", "sent_at"), ("deliveredDateTime", "delivered_at"),
                          ("completedDateTime", "completed_at"), ("declinedDateTime", "declined_at"),
                          ("voidedDateTime", "voided_at")):
            if data.get(key) is not None:
                dates[name] = parse_docusign_datetime(data[key], key)
        sender = data.get("sender") or {}
        if not isinstance(sender, Mapping):
            raise SummaryError("sender is not an object")
        recipients = data.get("recipients")
        return cls(
            subject=_optional_str(data, "emailSubject"),
            sender_email=_optional_str(sender, "email"),
            voided_reason=_optional_str(data, "voidedReason"),
            dates=dates,
            recipients=None if recipients is None else _read_recipients(recipients),
        )


def parse_docusign_datetime(value: object, name: str = "date") -> datetime:
    """DocuSign's ISO 8601 UTC strings ("...T10:00:00.1234567Z"); extra fractional digits are dropped."""
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise SummaryError(f"{name} is not an ISO 8601 date-time with a time zone")
    return parsed


def envelope_status_apply(*, organization: ClientOrganization, envelope_id: str, status: str, changed_at: datetime,
                          source: str, summary: EnvelopeSummary | None = None,
                          on_recorded: Callable[[Envelope], None] | None = None) -> bool:
    """Record DocuSign's `status` of an envelope as of `changed_at`; return True if the status changed.

    `source` is a `CreatedVia` value (portal, connect, poll). Creates the envelope row when it is new. The summary
    fills in subject, sender, dates and recipients without ever moving a recipient's status back (subject and
    recipients' details only from news at least as new as the stored `status_changed_at`). One audit event is
    written per real status change; a move to completed calls `envelope_completed` after the commit.
    `on_recorded` runs in the same transaction once the row is saved, before the outbound events are written (the
    API's metadata rows, which the events carry).
    """
    if status not in STATUS_RANK:
        raise SummaryError(f"unknown envelope status {status!r}")
    source = CreatedVia(source)
    with transaction.atomic():
        envelope, _ = Envelope.objects.select_for_update().get_or_create(
            organization=organization, envelope_id=envelope_id,
            defaults={"environment": organization.environment, "created_via": source},
        )
        before, recipients_before = envelope.status, envelope.recipients
        # Subject and recipients' details come only from news at least as new as what was applied (docs/security.md WH-5):
        # DocuSign delivers Connect messages in no particular order, and an older one must not undo a newer one's details.
        current = envelope.status_changed_at is None or changed_at >= envelope.status_changed_at
        status_changed = _advances(before, status)
        if status_changed:
            envelope.status = status
            # A clock-skewed message never makes the recorded time go backwards.
            envelope.status_changed_at = max(changed_at, envelope.status_changed_at or changed_at)
        if summary is not None:
            _merge_summary(envelope, summary, current=current)
        date_field = STATUS_DATE_FIELD.get(status)
        if status_changed and date_field and getattr(envelope, date_field) is None:
            setattr(envelope, date_field, changed_at)
        envelope.last_event_at = timezone.now()
        envelope.save()
        if on_recorded is not None:
            on_recorded(envelope)
        outbox.record_envelope(organization=organization, envelope=envelope, status_before=before,
                               recipients_before=recipients_before)
        if status_changed:
            audit.record(actor=None, action="envelope.status_changed", organization=organization,
                         before={"status": before}, after={"status": status, "source": source.value,
                                                           "changed_at": changed_at},
                         target=f"envelope {envelope_id}")
            logger.info("Envelope %s of %s: %s -> %s (%s)", envelope_id, organization.slug, before, status, source.value)
            if status == EnvelopeStatus.COMPLETED:
                transaction.on_commit(lambda: envelope_completed(envelope))
    return status_changed


def _advances(current: str, new: str) -> bool:
    if current in FINAL_STATUSES:
        return False
    return STATUS_RANK[new] > STATUS_RANK[current]


def _merge_summary(envelope: Envelope, summary: EnvelopeSummary, *, current: bool) -> None:
    if summary.subject and current:
        envelope.subject = summary.subject[:200]
    if summary.sender_email and not envelope.sender_email:
        envelope.sender_email = summary.sender_email[:254]
    if summary.voided_reason and envelope.status == EnvelopeStatus.VOIDED:
        envelope.voided_reason = summary.voided_reason[:200]
    for name, value in summary.dates.items():
        setattr(envelope, name, value)  # DocuSign's own record of when each step happened; it does not change
    if summary.recipients is not None:
        envelope.recipients = merge_recipients(envelope.recipients, summary.recipients, details=current)


def merge_recipients(known: Iterable[dict[str, str]], incoming: Iterable[dict[str, str]], *,
                     details: bool = True) -> list[dict[str, str]]:
    """Known recipients updated from `incoming` by recipient_id; a recipient's status never moves back.

    With `details=False` (an older message) only statuses move forward: no name, email or clientUserId changes and
    no recipient is added. Who may sign as an embedded signer is never taken from here (`EmbeddedSigner`).
    """
    merged = {r["recipient_id"]: dict(r) for r in known}
    for recipient in incoming:
        current = merged.get(recipient["recipient_id"])
        if current is None:
            if details:
                merged[recipient["recipient_id"]] = dict(recipient)
            continue
        if details:
            for key in ("name", "email", "client_user_id"):
                if recipient.get(key):
                    current[key] = recipient[key]
        if _recipient_advances(current.get("status", "created"), recipient.get("status", "")):
            current["status"] = recipient["status"]
    return list(merged.values())


def _recipient_advances(current: str, new: str) -> bool:
    if new not in RECIPIENT_RANK or current in RECIPIENT_FINAL:
        return False
    return RECIPIENT_RANK[new] > RECIPIENT_RANK.get(current, -1)


def _read_recipients(recipients: object) -> tuple[dict[str, str], ...]:
    if not isinstance(recipients, Mapping):
        raise SummaryError("recipients is not an object")
    read: list[dict[str, str]] = []
    for collection in RECIPIENT_COLLECTIONS:
        items = recipients.get(collection) or []
        if not isinstance(items, list):
            raise SummaryError(f"recipients.{collection} is not a list")
        for item in items:
            if len(read) >= MAX_RECIPIENTS:
                raise SummaryError(f"more than {MAX_RECIPIENTS} recipients")
            if not isinstance(item, Mapping):
                raise SummaryError(f"an item of recipients.{collection} is not an object")
            recipient_id = _optional_str(item, "recipientId")
            if not recipient_id:
                raise SummaryError(f"an item of recipients.{collection} has no recipientId")
            read.append({
                "recipient_id": recipient_id[:100],
                "name": (_optional_str(item, "name") or "")[:200],
                "email": (_optional_str(item, "email") or "")[:254],
                "status": (_optional_str(item, "status") or "")[:30],
                "client_user_id": (_optional_str(item, "clientUserId") or "")[:100],
            })
    return tuple(read)


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise SummaryError(f"{key} is not a string")
    return value


def envelope_completed(envelope: Envelope) -> None:
    """What an envelope's completion sets off, after its commit: its signed documents are downloaded."""
    # Imported here: the task module imports this one (through envelope_sync).
    from docusign_integration.envelopes.tasks import download_envelope_documents

    try:
        download_envelope_documents.delay(envelope.organization_id, envelope.envelope_id)
    except Exception:  # e.g. a broker hiccup; the beat sweep `download_missing_documents` queues it again
        logger.exception("Queueing the signed-document download failed for envelope %s", envelope.envelope_id)
