"""What a Connect message means: its identity for deduplication, storing it, and applying it once.

`connect_event_store` runs in the listener (no DocuSign call, no processing); `connect_event_process` runs in a task
and applies an envelope-* or recipient-* message through `envelope_status_apply`. A message that cannot be read is
quarantined with a reason, never retried in a loop (docs/security.md BI-4), and processing the same event twice
changes nothing the second time (docs/security.md WH-4).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from docusign_integration.client.ids import is_guid
from docusign_integration.connect.dispatch import queue_processing
from docusign_integration.connect.hosted_routing import Unroutable, envelope_summary, hosted_organization_for
from docusign_integration.connect.models import ConnectEvent, ConnectEventState
from docusign_integration.envelopes.models.envelopes import CreatedVia
from docusign_integration.envelopes.status import EnvelopeSummary, SummaryError, envelope_status_apply, parse_docusign_datetime
from portal import metrics
from tenants import audit
from tenants.active import organization_is_active
from tenants.models import ClientOrganization, Hosting

logger = logging.getLogger(__name__)

QUARANTINE_BATCH = 1000  # events parked per sweep; the next sweep takes the rest

# The envelope status each envelope-* event announces, used when the message carries no envelopeSummary (docs/docusign.md §7.3).
ENVELOPE_EVENT_STATUS = {
    "envelope-created": "created", "envelope-sent": "sent", "envelope-resent": "sent", "envelope-delivered": "delivered",
    "envelope-completed": "completed", "envelope-declined": "declined", "envelope-voided": "voided",
    "envelope-corrected": None,
}
# recipient-* events change a recipient; their envelopeSummary also carries the envelope's status (docs/docusign.md §7.2).
RECIPIENT_EVENTS = frozenset({
    "recipient-sent", "recipient-resent", "recipient-delivered", "recipient-completed", "recipient-declined",
    "recipient-autoresponded", "recipient-authenticationfailed", "recipient-reassign", "recipient-delegate",
    "recipient-finish-later",
})
APPLIED_EVENTS = frozenset(ENVELOPE_EVENT_STATUS) | RECIPIENT_EVENTS
REASON_LIMIT = 500
# Plain ASCII only, so what goes into the dedup key is storable by every database and safe to show.
EVENT_NAME = re.compile(r"[a-z][a-z-]{0,59}")
RECIPIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")


class PoisonMessage(ValueError):
    """A verified message whose content cannot be used; the text is the quarantine reason."""


@dataclass(frozen=True)
class MessageIdentity:
    """DocuSign's identity of one message (the dedup key) plus the retryCount of this delivery."""

    event: str
    envelope_id: str
    generated_at: datetime
    recipient_id: str
    retry_count: int


def message_identity(payload: Mapping[str, Any]) -> MessageIdentity:
    """Read the dedup key of a JSON SIM message (docs/docusign.md §7.3); raise PoisonMessage naming what is missing or wrong."""
    data = payload.get("data")
    if not isinstance(data, Mapping):
        raise PoisonMessage("data is missing or not an object")
    event = payload.get("event")
    if not isinstance(event, str) or not EVENT_NAME.fullmatch(event):
        raise PoisonMessage("event is missing or not an event name")
    if not is_guid(data.get("envelopeId")):
        raise PoisonMessage("data.envelopeId is missing or not a GUID")
    try:
        generated_at = parse_docusign_datetime(payload.get("generatedDateTime"), "generatedDateTime")
    except SummaryError as exc:
        raise PoisonMessage(str(exc)) from None
    recipient_id = data.get("recipientId", "")
    if not isinstance(recipient_id, str) or not (recipient_id == "" or RECIPIENT_ID.fullmatch(recipient_id)):
        raise PoisonMessage("data.recipientId is not a recipient id")
    retry_count = payload.get("retryCount", 0)
    if not isinstance(retry_count, int) or isinstance(retry_count, bool) or retry_count < 0:
        retry_count = 0  # informational only: never part of the key
    return MessageIdentity(event, data["envelopeId"].lower(), generated_at, recipient_id, retry_count)


def connect_event_store(*, environment: str, account_id: str, organization: ClientOrganization | None,
                        payload: Mapping[str, Any], body: bytes) -> tuple[ConnectEvent, bool]:
    """Store a verified message once; return (event, created). A new processable event is queued after commit."""
    account_id = account_id.lower()
    unroutable = ""
    if organization is not None and organization.hosting == Hosting.HOSTED:
        # The ISV account: its id names no single client (docs/docusign.md §10.1).
        try:
            organization = hosted_organization_for(environment=environment, account_id=account_id,
                                                   summary=envelope_summary(payload))
        except Unroutable as exc:
            organization, unroutable = None, str(exc)
    try:
        identity = message_identity(payload)
    except PoisonMessage as exc:
        # No usable key: each such delivery is its own row, kept for ISV staff to look at.
        event = ConnectEvent.objects.create(
            environment=environment, account_id=account_id, organization=organization, body=body,
            envelope_id=_short(payload, "envelopeId", 36), event=_short(payload, "event", 60),
            state=ConnectEventState.QUARANTINED, reason=str(exc)[:REASON_LIMIT], processed_at=timezone.now())
        return event, True
    state, reason = _initial_state(identity.event, organization, account_id)
    if unroutable:
        reason = unroutable[:REASON_LIMIT]
    key = {"account_id": account_id, "envelope_id": identity.envelope_id, "event": identity.event,
           "generated_at": identity.generated_at, "recipient_id": identity.recipient_id}
    try:
        # New messages are the common case: one INSERT, no SELECT first. Inside a caller's transaction a savepoint
        # keeps a duplicate's unique violation from breaking it; in autocommit the INSERT alone is atomic.
        with transaction.atomic() if transaction.get_connection().in_atomic_block else contextlib.nullcontext():
            event = ConnectEvent.objects.create(
                **key, environment=environment, organization=organization, body=body, state=state, reason=reason,
                retry_count=identity.retry_count,
                processed_at=None if state == ConnectEventState.RECEIVED else timezone.now())
    except IntegrityError:  # a redelivery: keep the first copy, note the highest retryCount seen
        ConnectEvent.objects.filter(**key, retry_count__lt=identity.retry_count).update(retry_count=identity.retry_count)
        return ConnectEvent.objects.get(**key), False
    if event.state == ConnectEventState.RECEIVED:
        transaction.on_commit(lambda: queue_processing(event.pk))
    return event, True


def _initial_state(event: str, organization: ClientOrganization | None, account_id: str) -> tuple[str, str]:
    if organization is None:
        return ConnectEventState.QUARANTINED, f"No client organization has DocuSign account {account_id}."
    if not organization_is_active(organization):
        return ConnectEventState.QUARANTINED, _offboarded_reason(account_id)
    if event not in APPLIED_EVENTS:
        return ConnectEventState.IGNORED, f"The portal does not act on {event} messages."
    return ConnectEventState.RECEIVED, ""


def _offboarded_reason(account_id: str) -> str:
    # Kept, not applied: if staff reactivate the client, `replay_connect_events` can apply it then.
    return f"The client organization of DocuSign account {account_id} is offboarded: the message is kept, not applied."


def _short(payload: Mapping[str, Any], key: str, limit: int) -> str:
    data = payload.get("data")
    value = data.get(key) if key != "event" and isinstance(data, Mapping) else payload.get(key)
    # Only printable ASCII is kept: a poison message's strings may hold anything, lone surrogates included.
    return value[:limit] if isinstance(value, str) and value.isascii() and value.isprintable() else ""


def connect_event_process(event_id: int) -> str | None:
    """Apply one stored event if it is still waiting; return its state afterwards (None if it no longer exists).

    Safe to run twice or concurrently: the row is locked and only a `received` event is applied.
    """
    ConnectEvent.objects.filter(pk=event_id, state=ConnectEventState.RECEIVED).update(attempts=F("attempts") + 1)
    with transaction.atomic():
        event = ConnectEvent.objects.select_for_update(of=("self",)).select_related("organization").filter(pk=event_id).first()
        if event is None or event.state != ConnectEventState.RECEIVED:
            return None if event is None else event.state
        try:
            event.reason = _apply(event)
            event.state = ConnectEventState.APPLIED
        except PoisonMessage as exc:
            event.state, event.reason = ConnectEventState.QUARANTINED, str(exc)[:REASON_LIMIT]
            logger.warning("Connect event %s (%s, envelope %s) quarantined: %s", event.pk, event.event,
                           event.envelope_id, event.reason)
        event.processed_at = timezone.now()
        event.save(update_fields=["state", "reason", "processed_at"])
    metrics.CONNECT_PROCESSED.labels(state=event.state).inc()
    return event.state


def connect_event_replay(event_id: int, *, acting_user: User | None, organization: ClientOrganization,
                         quarantined: bool = False) -> str | None:
    """Process a stored event again for a replay: only if it is still `received` (or `quarantined`, when allowed).

    The replay lists events first and reaches each one later: a worker may have applied it, or the sweeper parked
    it, in between. The move back to `received` is conditional on the state it was listed in, so an applied or
    ignored event is never applied again and a quarantined one only when the replay says so. The requeue is audited
    ("connect_event.replay"). Returns the state afterwards, or None when the event was left alone (gone, or no
    longer in a state the replay may take it from).
    """
    states = [ConnectEventState.RECEIVED, *([ConnectEventState.QUARANTINED] if quarantined else [])]
    with transaction.atomic():
        event = ConnectEvent.objects.select_for_update().filter(pk=event_id, state__in=states).first()
        if event is None:
            return None
        before = {"state": event.state, "organization": event.organization_id, "reason": event.reason}
        ConnectEvent.objects.filter(pk=event.pk).update(organization=organization, reason="",
                                                        state=ConnectEventState.RECEIVED)
        after = {"state": ConnectEventState.RECEIVED, "organization": organization.pk, "reason": ""}
        audit.record(actor=acting_user, action="connect_event.replay", organization=organization,
                     target=_label(event), before=before, after=after)
    return connect_event_process(event_id)


def connect_events_quarantine_stuck(*, acting_user: User | None, received_before: datetime, max_attempts: int,
                                    limit: int = QUARANTINE_BATCH) -> int:
    """Park events still `received` before `received_before` whose processing failed `max_attempts` times or more.

    Such a message fails for reasons other than its content (its content would have quarantined it at once), so
    retrying it forever would only load the workers; staff replay it once the cause is fixed. One audit row per
    event ("connect_event.quarantine"); at most `limit` per call, the rest at the next sweep. Returns how many.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    reason = f"Processing failed {max_attempts} times; see the worker's log."
    with transaction.atomic():
        stuck = list(ConnectEvent.objects.select_for_update(of=("self",)).select_related("organization")
                     .filter(state=ConnectEventState.RECEIVED, received_at__lt=received_before,
                             attempts__gte=max_attempts).order_by("pk")[:limit])
        ConnectEvent.objects.filter(pk__in=[event.pk for event in stuck]).update(
            state=ConnectEventState.QUARANTINED, processed_at=timezone.now(), reason=reason)
        for event in stuck:
            audit.record(actor=acting_user, action="connect_event.quarantine", organization=event.organization,
                         target=_label(event), before={"state": event.state, "attempts": event.attempts},
                         after={"state": ConnectEventState.QUARANTINED, "reason": reason})
    return len(stuck)


def _label(event: ConnectEvent) -> str:
    return f"Connect event {event.pk} ({event.event}, envelope {event.envelope_id})"


def _apply(event: ConnectEvent) -> str:
    if event.organization is None:
        raise PoisonMessage("The message names no client organization.")
    if not organization_is_active(event.organization):  # offboarded after the message was stored
        raise PoisonMessage(_offboarded_reason(event.account_id))
    try:
        payload = json.loads(bytes(event.body))
        summary_data = payload["data"].get("envelopeSummary")
        if summary_data is not None and not isinstance(summary_data, Mapping):
            raise PoisonMessage("data.envelopeSummary is not an object")
        status = (summary_data or {}).get("status") or ENVELOPE_EVENT_STATUS.get(event.event)
        if status is None:
            raise PoisonMessage(f"{event.event} carries no envelopeSummary.status to apply")
        changed_at = event.generated_at
        if summary_data and summary_data.get("statusChangedDateTime") is not None:
            changed_at = parse_docusign_datetime(summary_data["statusChangedDateTime"], "statusChangedDateTime")
        if changed_at is None:
            raise PoisonMessage(f"{event.event} carries neither generatedDateTime nor statusChangedDateTime to order it by")
        summary = EnvelopeSummary.from_docusign(summary_data) if summary_data else None
        changed = envelope_status_apply(organization=event.organization, envelope_id=event.envelope_id, status=status,
                                        changed_at=changed_at, source=CreatedVia.CONNECT, summary=summary)
    except (SummaryError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        # The body passed HMAC and JSON checks at the door; what fails here is its content, so retrying cannot help.
        raise PoisonMessage(f"Unusable {event.event} message: {exc}") from None
    return f"Status changed to {status}." if changed else f"No status change (already {status} or further)."
