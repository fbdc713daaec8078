"""Background work for Connect: apply stored messages, sweep up ones whose task was lost, republish failures.

Tasks take ids only. The listener queues `process_connect_events` after its commit, one message for the events
that arrived together (`connect_dispatch`); if the broker was down then, `sweep_connect_events` (beat, every minute)
queues what is still waiting, so an acknowledged message is never lost (docs/security.md WH-6).
`republish_failures` asks DocuSign to resend what it failed to deliver to us.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import Task, shared_task
from django.db.models import Q
from django.utils import timezone

from background import task_retry
from background.dead_letters import dead_letter_record
from docusign_integration.client import errors
from docusign_integration.client.connect_failures import connect_envelopes_retry_queue, connect_failures_list
from docusign_integration.client.rest import AccountRef
from docusign_integration.connect.dispatch import MAX_EVENTS_PER_MESSAGE
from docusign_integration.connect.events import connect_event_process, connect_events_quarantine_stuck
from docusign_integration.connect.models import ConnectEvent, ConnectEventState
from docusign_integration.oauth import tokens
from portal import metrics
from tenants.active import active_only, organization_is_active
from tenants.models import ClientOrganization, ConsentStatus

logger = logging.getLogger(__name__)

SWEEP_AFTER = timedelta(minutes=1)  # older than this and still `received`: its task was lost
SWEEP_BATCH = 500
MAX_PROCESS_ATTEMPTS = 5  # a message that keeps failing for reasons other than its content is parked for staff


@shared_task(name="docusign_integration.tasks_connect.process_connect_event", acks_late=True)
def process_connect_event(event_id: int) -> str | None:
    """Apply one stored Connect message; running it again does nothing (the event is no longer `received`)."""
    return connect_event_process(event_id)


@shared_task(name="docusign_integration.tasks_connect.process_connect_events", acks_late=True)
def process_connect_events(event_ids: list[int]) -> int:
    """Apply stored Connect messages one after another; returns how many were processed without an error.

    Each event is independent: one that fails for a reason other than its content (the database went away, say)
    stays `received`, is logged, and the others go on; the sweeper tries it again, up to MAX_PROCESS_ATTEMPTS.
    """
    if (not isinstance(event_ids, list) or len(event_ids) > MAX_EVENTS_PER_MESSAGE
            or not all(type(event_id) is int and event_id > 0 for event_id in event_ids)):
        # Never a partial run: a malformed message (not one the listener sent) changes nothing.
        raise ValueError(f"process_connect_events takes a list of at most {MAX_EVENTS_PER_MESSAGE} event ids")
    done = 0
    for event_id in event_ids:
        try:
            connect_event_process(event_id)
        except Exception:
            logger.exception("Connect event %s not processed; the sweeper will try it again", event_id)
            continue
        done += 1
    return done


@shared_task(name="docusign_integration.tasks_connect.sweep_connect_events")
def sweep_connect_events() -> int:
    """Queue processing for events received over a minute ago and still waiting; park those that keep failing."""
    received_before = timezone.now() - SWEEP_AFTER
    parked = connect_events_quarantine_stuck(acting_user=None, received_before=received_before,
                                             max_attempts=MAX_PROCESS_ATTEMPTS)
    waiting = ConnectEvent.objects.filter(state=ConnectEventState.RECEIVED, received_at__lt=received_before)
    if parked:
        metrics.CONNECT_PROCESSED.labels(state=ConnectEventState.QUARANTINED).inc(parked)
        logger.error("%d Connect events quarantined after %d failed processing attempts", parked, MAX_PROCESS_ATTEMPTS)
    event_ids = list(waiting.order_by("received_at", "pk").values_list("pk", flat=True)[:SWEEP_BATCH])
    for event_id in event_ids:
        process_connect_event.delay(event_id)
    if event_ids:
        logger.warning("Swept %d Connect events whose processing task never ran", len(event_ids))
    return len(event_ids)


@shared_task(name="docusign_integration.tasks_connect.republish_failures", bind=True, max_retries=5, acks_late=True)
def republish_failures(self: Task, organization_id: int) -> int:
    """Ask DocuSign to republish the organization's failed Connect messages; returns how many it queued."""
    organization = ClientOrganization.objects.select_related("system_user").filter(pk=organization_id).first()
    if (not organization_is_active(organization, task="republish_failures") or not organization.account_id
            or not organization.base_uri):
        return 0
    try:
        bearer = tokens.get_impersonation_token(organization.environment, organization.system_user.user_id)
        ref = AccountRef(organization.environment, organization.account_id, organization.base_uri)
        envelope_ids = sorted({envelope_id for failure in connect_failures_list(ref, bearer=bearer)
                               if isinstance(envelope_id := failure.get("envelopeId"), str)})
        queued = connect_envelopes_retry_queue(ref, envelope_ids, bearer=bearer)
    except errors.DocuSignError as exc:
        task_retry.retry_if_temporary(self, exc)
        logger.warning("Connect failures of %s not republished: %s", organization.slug, exc.user_message)
        if not isinstance(exc, errors.ConsentRequired):
            # Not an admin, account gone, ...: DocuSign keeps the failed messages until a person fixes the
            # system user's rights, so a dead letter asks for one. A withdrawn consent the consent check reports.
            dead_letter_record(self, exc)
        return 0
    if queued:
        logger.info("DocuSign republishes %d failed Connect messages of %s", len(queued), organization.slug)
    return len(queued)


@shared_task(name="docusign_integration.tasks_connect.republish_failures_all")
def republish_failures_all() -> int:
    """Queue `republish_failures` for every active organization whose system user can act for its account."""
    ready = active_only(ClientOrganization.objects.all()).filter(
        ~Q(account_id=None), ~Q(base_uri=""), system_user__consent_status=ConsentStatus.GRANTED)
    organization_ids = list(ready.values_list("pk", flat=True))
    for organization_id in organization_ids:
        republish_failures.delay(organization_id)
    return len(organization_ids)
