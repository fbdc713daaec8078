"""Background consent checks: one task per client organization, fanned out from a bulk task. Tasks take ids only."""

from __future__ import annotations

from collections.abc import Iterable

from celery import Task, shared_task
from django.db import transaction

from background import task_retry
from docusign_integration.client import errors
from docusign_integration.consent.system_user import consent_verify
from tenants.active import active_only, organization_is_active
from tenants.models import ClientOrganization, SystemUser


@shared_task(name="docusign_integration.tasks.check_consent_task", bind=True, max_retries=5, acks_late=True)
def check_consent_task(self: Task, organization_id: int) -> None:
    """Verify one organization's consent. Safe to run twice: a check only records what DocuSign says now."""
    organization = ClientOrganization.objects.filter(pk=organization_id).first()
    if not organization_is_active(organization, task="check_consent"):
        return  # deleted or offboarded since it was queued: no JWT grant for it
    if not SystemUser.objects.filter(organization=organization).exists():
        return  # a hosted client whose user is still being created: its provisioning queues this check when done
    try:
        consent_verify(acting_user=None, organization=organization)
    except errors.DocuSignError as exc:
        # consent_verify records refusals on the organization itself: only transient failures and rate limits
        # reach here; once the retries are spent, the dead letter (background.task_failures) asks a person.
        task_retry.retry_or_raise(self, exc)


@shared_task(name="docusign_integration.tasks.check_consent_bulk")
def check_consent_bulk(organization_ids: list[int]) -> int:
    """Queue one `check_consent_task` per active organization among the ids; returns how many were queued."""
    ids = list(active_only(ClientOrganization.objects.filter(pk__in=organization_ids)).values_list("pk", flat=True))
    for organization_id in ids:
        check_consent_task.delay(organization_id)
    return len(ids)


def enqueue_consent_checks(organization_ids: Iterable[int]) -> int:
    """Queue the fan-out after the current transaction commits; returns the number of organizations."""
    ids = [int(i) for i in organization_ids]
    if ids:
        transaction.on_commit(lambda: check_consent_bulk.delay(ids))
    return len(ids)
