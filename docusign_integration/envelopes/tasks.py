"""Background envelope work: the polling sweep per organization and the signed-document downloads.

Beat runs `sync_all_organizations`, which fans out one `sync_organization` per organization whose system user has
granted consent. Tasks take ids only, are safe to run twice, and are acknowledged late (a worker lost mid-task
means redelivery). Retries: transient errors (5xx, timeouts, dropped connections) with exponential backoff and full
jitter; a rate limit at its reset; every countdown stays below the broker's visibility timeout. An envelope that
becomes completed queues its download after the change commits (`envelope_status.envelope_completed`).
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from background import task_retry
from docusign_integration.client import errors
from docusign_integration.envelopes import documents
from docusign_integration.envelopes import sync as envelope_sync
from docusign_integration.envelopes.models.documents import DocumentKind, DocumentState, SignedDocument
from docusign_integration.envelopes.models.envelopes import Envelope, EnvelopeStatus
from docusign_integration.envelopes.sending import SendingUnavailable
from tenants.active import active_only, organization_is_active
from tenants.models import ClientOrganization, ConsentStatus, Hosting

logger = logging.getLogger(__name__)

MAX_COUNTDOWN = task_retry.DEFER_MAX  # seconds; well below the broker's visibility timeout (settings: 3600)
# A person coming back from DocuSign asks for a sweep; the same kind of return within this many seconds shares one,
# so reloading a return page cannot spend the account's hourly API budget.
SWEEP_SOON_SECONDS = 15


def syncable_organizations() -> QuerySet[ClientOrganization]:
    """Organizations the sweep can run for: active, an account chosen, consent granted, not waiting for a rate-limit
    reset."""
    now = timezone.now()
    return (active_only(ClientOrganization.objects.all())
            .filter(system_user__consent_status=ConsentStatus.GRANTED, account_id__isnull=False)
            .exclude(hosting=Hosting.HOSTED)  # the ISV account's one sweep serves them (hosting.tasks.sweep_isv_accounts)
            .exclude(base_uri="")
            .filter(Q(sync_state__isnull=True) | Q(sync_state__next_allowed_at__isnull=True)
                    | Q(sync_state__next_allowed_at__lte=now)))


@shared_task(name="docusign_integration.tasks_envelopes.sync_all_organizations")
def sync_all_organizations() -> int:
    """Beat: queue one `sync_organization` per syncable organization; returns how many were queued."""
    ids = list(syncable_organizations().values_list("pk", flat=True))
    for organization_id in ids:
        sync_organization.delay(organization_id)
    return len(ids)


@shared_task(name="docusign_integration.tasks_envelopes.sync_organization", bind=True, max_retries=8, acks_late=True)
def sync_organization(self: Task, organization_id: int) -> None:
    """One organization's sweep. Safe to run twice: applying a status is monotonic and idempotent."""
    organization = ClientOrganization.objects.filter(pk=organization_id).first()
    if not organization_is_active(organization, task="sync_organization"):
        return  # deleted or offboarded since it was queued
    if organization.is_hosted:
        return  # its ISV account's one sweep serves it (hosting.tasks.sweep_isv_account); it has no sweep of its own
    try:
        envelope_sync.envelopes_sweep(organization)
    except SendingUnavailable:
        return  # consent revoked or account unset since it was queued: nothing to poll
    except errors.DocuSignError as exc:
        task_retry.retry_or_raise(self, exc)


def sync_organization_soon(organization: ClientOrganization, reason: str) -> bool:
    """Queue a sweep after commit unless one was queued for the same `reason` in the last few seconds; True when queued."""
    if not cache.add(f"docusign:sweep-soon:{organization.pk}:{reason}", 1, SWEEP_SOON_SECONDS):
        return False
    transaction.on_commit(lambda: sync_organization.delay(organization.pk))
    return True


@shared_task(name="docusign_integration.tasks_envelopes.download_envelope_documents", bind=True, max_retries=8, acks_late=True)
def download_envelope_documents(self: Task, organization_id: int, envelope_id: str) -> None:
    """Download a completed envelope's signed documents; refuses an envelope of another organization (docs/security.md TI-2)."""
    envelope = (Envelope.objects.select_related("organization")
                .filter(organization_id=organization_id, envelope_id=envelope_id).first())
    if envelope is None:
        logger.warning("download_refused organization=%s envelope=%s reason=not_this_organizations",
                       organization_id, envelope_id)
        return
    if not organization_is_active(envelope.organization, task="download_envelope_documents"):
        return  # offboarded since it was queued: its stored documents stay, nothing more is fetched
    try:
        outcomes = documents.documents_download(envelope)
    except SendingUnavailable:
        return
    except errors.DocuSignError as exc:
        task_retry.retry_or_raise(self, exc)
    if documents.Outcome.BUSY in outcomes.values():
        # Another task holds a lease: come back when it runs out, in case that task's worker died.
        lease_until = (SignedDocument.objects.filter(envelope=envelope, state=DocumentState.DOWNLOADING)
                       .order_by("-lease_until").values_list("lease_until", flat=True).first())
        wait = (lease_until - timezone.now()).total_seconds() if lease_until else 1
        raise self.retry(countdown=min(MAX_COUNTDOWN, max(1, int(wait) + 1)))


@shared_task(name="docusign_integration.tasks_envelopes.download_missing_documents")
def download_missing_documents() -> int:
    """Beat: queue downloads for completed envelopes whose documents are not stored (a hook lost to a broker outage)."""
    missing = (active_only(Envelope.objects.all(), via="organization__").filter(status=EnvelopeStatus.COMPLETED)
               .annotate(stored=Count("signed_documents", filter=Q(signed_documents__state=DocumentState.STORED)),
                         failed=Count("signed_documents", filter=Q(signed_documents__state=DocumentState.FAILED)))
               # A permanent failure (too large, gone) waits for staff (download_documents), never a retry loop.
               .filter(stored__lt=len(DocumentKind.values), failed=0)
               .values_list("organization_id", "envelope_id"))
    count = 0
    for organization_id, envelope_id in missing.iterator():
        download_envelope_documents.delay(organization_id, envelope_id)
        count += 1
    return count
