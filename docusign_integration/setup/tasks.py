"""Setup DocuSign account in the background: one push task per organization, and the daily drift check fan-out.

Tasks take ids only and retry only DocuSign's transient errors (timeouts, 5xx, rate limits). Both are safe to run
twice: a push finds the configuration it made, a check only records what DocuSign says now.
"""

from __future__ import annotations

from collections.abc import Iterable

from celery import Task, shared_task
from django.contrib.auth import get_user_model
from django.db import transaction

from background import task_retry
from docusign_integration.client import errors
from docusign_integration.setup import account_setup
from tenants.active import active_only, organization_is_active
from tenants.models import ClientOrganization, Hosting


@shared_task(name="docusign_integration.tasks_setup.account_setup_push_task", bind=True, max_retries=5, acks_late=True)
def account_setup_push_task(self: Task, organization_id: int, acting_user_id: int | None = None) -> None:
    """Push the setup profile to one organization's account as its system user; refusals are recorded, not retried."""
    organization = ClientOrganization.objects.filter(pk=organization_id).first()
    if not organization_is_active(organization, task="account_setup_push"):
        return  # deleted or offboarded since it was queued
    acting_user = get_user_model().objects.filter(pk=acting_user_id).first() if acting_user_id else None
    try:
        account_setup.account_setup_push(acting_user=acting_user, organization=organization)
    except errors.DocuSignError as exc:
        task_retry.retry_if_temporary(self, exc)
        return  # a refusal is recorded on the organization's setup state, where staff see it


@shared_task(name="docusign_integration.tasks_setup.account_setup_check_task", bind=True, max_retries=5, acks_late=True)
def account_setup_check_task(self: Task, organization_id: int) -> None:
    """Record whether one organization's account is in sync, drifted or missing the setup."""
    organization = ClientOrganization.objects.filter(pk=organization_id).first()
    if not organization_is_active(organization, task="account_setup_check"):
        return
    try:
        account_setup.account_setup_status(organization=organization)
    except errors.DocuSignError as exc:
        task_retry.retry_or_raise(self, exc)  # only transient ones and rate limits raise


@shared_task(name="docusign_integration.tasks_setup.account_setup_check_all")
def account_setup_check_all() -> int:
    """The daily drift check: one `account_setup_check_task` per active organization with an account; returns how many."""
    ids = (active_only(ClientOrganization.objects.all()).filter(account_id__isnull=False)
           .exclude(hosting=Hosting.HOSTED).values_list("pk", flat=True))  # the ISV account is set up once, not per client
    count = 0
    for organization_id in ids.iterator(chunk_size=1000):
        account_setup_check_task.delay(organization_id)
        count += 1
    return count


def _queue_after_commit(task: Task, organization_ids: Iterable[int], *args: object) -> int:
    """Queue `task(organization_id, *args)` per organization once the current transaction commits; returns how many."""
    ids = [int(i) for i in organization_ids]

    def enqueue() -> None:
        for organization_id in ids:
            task.delay(organization_id, *args)

    if ids:
        transaction.on_commit(enqueue)
    return len(ids)


def enqueue_setup_pushes(organization_ids: Iterable[int], *, acting_user_id: int | None) -> int:
    """Queue one push per organization after the current transaction commits; returns how many."""
    return _queue_after_commit(account_setup_push_task, organization_ids, acting_user_id)


def enqueue_setup_checks(organization_ids: Iterable[int]) -> int:
    """Queue one drift check per organization after the current transaction commits; returns how many."""
    return _queue_after_commit(account_setup_check_task, organization_ids)
