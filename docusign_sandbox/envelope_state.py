"""The envelope and recipient state machine, and the Connect event that each change publishes.

created -> sent -> delivered -> completed, or -> declined (a signer declines) or -> voided (the sender voids).
Recipients are reached in routing order: every recipient of the lowest order whose signers have not all
signed is "sent"; when they have all signed, the next order is reached. Every change stamps the sandbox
clock, and calls `events.envelope_event` with the JSON SIM event name (docs/docusign.md §7.2) inside the same
transaction, so Connect never publishes a change that was rolled back.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from . import clock, events, router, workflow
from .api import ApiError
from .models import Envelope, Recipient

VOIDABLE = ("sent", "delivered")
INCOMPLETE_MESSAGE = ("The Envelope is not Complete. A Complete Envelope Requires Documents, Recipients, Tabs, "
                      "and a Subject Line.")


def _touch(envelope: Envelope, now: datetime, status: str | None = None) -> None:
    envelope.last_modified_at = now
    if status is not None:
        envelope.status, envelope.status_changed_at = status, now
    envelope.save()


def _reach_next_routing_order(envelope: Envelope, now: datetime) -> None:
    """Send to every not-yet-sent recipient of the lowest routing order that still has signers to act."""
    waiting = envelope.recipients.filter(recipient_type="signer").exclude(status="completed")
    order = min((r.routing_order for r in waiting), default=None)
    reached = envelope.recipients.filter(status="created")
    if order is not None:
        reached = reached.filter(routing_order__lte=order)
        # A workflow pause holds everyone from its routing order on until the sender resumes (workflow.py).
        if (paused_at := workflow.pause_before(envelope, order, now)) is not None:
            reached = reached.filter(routing_order__lt=paused_at)
    for recipient in reached.order_by("routing_order", "pk"):
        recipient.status, recipient.sent_at = "sent", now
        recipient.save(update_fields=["status", "sent_at"])
        events.envelope_event(envelope, "recipient-sent", recipient)


def _lock_status(envelope: Envelope) -> str:
    """The envelope's stored status, read under a row lock so two concurrent changes cannot both pass."""
    envelope.status = Envelope.objects.select_for_update().values_list("status", flat=True).get(pk=envelope.pk)
    return envelope.status


def send(envelope: Envelope) -> None:
    """Send a draft: it needs a subject, a document and a recipient, as DocuSign requires."""
    with transaction.atomic(using=router.database()):
        if _lock_status(envelope) != "created":
            raise ApiError("ENVELOPE_CANNOT_SEND_NOT_DRAFT",  # UNVERIFIED code: docs/docusign.md §6.4 leaves it open
                           f"Only a draft envelope can be sent; this envelope is '{envelope.status}'.")
        if not envelope.email_subject or not envelope.documents.exists() or not envelope.recipients.exists():
            raise ApiError("ENVELOPE_IS_INCOMPLETE", INCOMPLETE_MESSAGE)
        now = clock.now()
        envelope.sent_at = now
        _touch(envelope, now, "sent")
        events.envelope_event(envelope, "envelope-sent")
        _reach_next_routing_order(envelope, now)


def deliver(recipient: Recipient) -> None:
    """The recipient opened the envelope; the first recipient to do so makes the envelope delivered."""
    if recipient.status != "sent":
        return  # already delivered (or acted): opening again is not a new event
    envelope = recipient.envelope
    with transaction.atomic(using=router.database()):
        now = clock.now()
        recipient.status, recipient.delivered_at = "delivered", now
        recipient.save(update_fields=["status", "delivered_at"])
        events.envelope_event(envelope, "recipient-delivered", recipient)
        if _lock_status(envelope) == "sent":
            envelope.delivered_at = now
            _touch(envelope, now, "delivered")
            events.envelope_event(envelope, "envelope-delivered")
        else:
            _touch(envelope, now)


def _acting(recipient: Recipient) -> Recipient:
    """The recipient re-read under a row lock, if it may act now; a double submit finds it already done."""
    recipient = Recipient.objects.select_for_update().select_related("envelope").get(pk=recipient.pk)
    if recipient.envelope.status not in VOIDABLE or recipient.status not in ("sent", "delivered"):
        raise ApiError("RECIPIENT_NOT_IN_SEQUENCE",
                       "This recipient cannot act on the envelope now: it is not this recipient's turn.")
    return recipient


def sign(recipient: Recipient) -> None:
    """The signer signed; the envelope completes when every signer has signed."""
    with transaction.atomic(using=router.database()):
        recipient = _acting(recipient)
        envelope, now = recipient.envelope, clock.now()
        recipient.status, recipient.signed_at = "completed", now
        recipient.save(update_fields=["status", "signed_at"])
        events.envelope_event(envelope, "recipient-completed", recipient)
        if envelope.recipients.filter(recipient_type="signer").exclude(status="completed").exists():
            _touch(envelope, now)
            _reach_next_routing_order(envelope, now)
            return
        # Carbon copies receive the completed envelope (their DocuSign status becomes "completed").
        envelope.recipients.filter(recipient_type="carbonCopy").exclude(status="completed").update(
            status="completed", signed_at=now)
        envelope.completed_at = now
        _touch(envelope, now, "completed")
        events.envelope_event(envelope, "envelope-completed")


def decline(recipient: Recipient, reason: str) -> None:
    """A signer declined: the envelope is declined and nobody else can act on it."""
    with transaction.atomic(using=router.database()):
        recipient = _acting(recipient)
        envelope, now = recipient.envelope, clock.now()
        recipient.status, recipient.declined_at, recipient.declined_reason = "declined", now, reason[:200]
        recipient.save(update_fields=["status", "declined_at", "declined_reason"])
        events.envelope_event(envelope, "recipient-declined", recipient)
        envelope.declined_at = now
        _touch(envelope, now, "declined")
        events.envelope_event(envelope, "envelope-declined")


def finish_later(recipient: Recipient) -> None:
    """The signer chose Finish Later: nothing changes but DocuSign's recipient-finish-later event."""
    with transaction.atomic(using=router.database()):
        recipient = _acting(recipient)
        events.envelope_event(recipient.envelope, "recipient-finish-later", recipient)


def void(envelope: Envelope, reason: str) -> None:
    """The sender voids an envelope in flight (sent or delivered)."""
    if not reason:
        raise ApiError("INVALID_REQUEST_PARAMETER", "The request contained at least one invalid parameter. "
                       "Value for 'voidedReason' must be specified when voiding an envelope.")
    with transaction.atomic(using=router.database()):
        if _lock_status(envelope) not in VOIDABLE:
            raise ApiError("ENVELOPE_CANNOT_VOID_INVALID_STATE",  # UNVERIFIED code
                           f"Only envelopes in the 'sent' or 'delivered' states may be voided; this one is "
                           f"'{envelope.status}'.")
        now = clock.now()
        envelope.voided_at, envelope.voided_reason = now, reason[:200]
        _touch(envelope, now, "voided")
        events.envelope_event(envelope, "envelope-voided")


def resume(envelope: Envelope) -> None:
    """The sender resumed a paused workflow: routing goes on from the routing order it held."""
    with transaction.atomic(using=router.database()):
        envelope.workflow = Envelope.objects.select_for_update().values_list("workflow", flat=True).get(pk=envelope.pk)
        now = clock.now()
        workflow.finish_pause(envelope, now)
        _touch(envelope, now)
        if envelope.status in VOIDABLE:
            _reach_next_routing_order(envelope, now)


def resend(envelope: Envelope) -> None:
    """`?resend_envelope=true`: send again to every recipient whose turn it is (DocuSign re-emails them)."""
    with transaction.atomic(using=router.database()):
        if _lock_status(envelope) not in VOIDABLE:
            raise ApiError("ENVELOPE_CANNOT_RESEND",  # UNVERIFIED code: the sandbox's own wording
                           f"Only a sent or delivered envelope can be resent; this envelope is '{envelope.status}'.")
        now = clock.now()
        envelope.resent_at = now
        _touch(envelope, now)
        events.envelope_event(envelope, "envelope-resent")
        for recipient in envelope.recipients.filter(status__in=("sent", "delivered")).order_by("routing_order", "pk"):
            events.envelope_event(envelope, "recipient-resent", recipient)
