"""Background work for hosted clients. Tasks take ids only."""

from __future__ import annotations

from celery import Task, shared_task
from django.core.cache import cache
from django.db import transaction

from background import task_retry
from docusign_integration.client import errors
from docusign_integration.envelopes.tasks import SWEEP_SOON_SECONDS
from docusign_integration.hosting.provisioning import hosted_system_user_close
from docusign_integration.hosting.sweep import isv_account_sweep
from tenants.models import ClientOrganization, Hosting, ISVAccount


@shared_task(name="docusign_integration.tasks_hosting.close_hosted_system_user", bind=True, max_retries=5, acks_late=True)
def close_hosted_system_user(self: Task, organization_id: int) -> None:
    """Close an offboarded hosted client's system user. Safe to run twice: a closed user is left alone."""
    organization = ClientOrganization.objects.filter(pk=organization_id).first()
    if organization is None or organization.offboarded_at is None:
        return  # reactivated since: its system user serves it again
    try:
        hosted_system_user_close(acting_user=None, organization=organization)
    except errors.DocuSignError as exc:
        task_retry.retry_or_raise(self, exc)


@shared_task(name="docusign_integration.tasks_hosting.sweep_isv_accounts", bind=True, max_retries=8, acks_late=True)
def sweep_isv_accounts(self: Task) -> int:
    """Beat: the one account-wide sweep of each ISV account with hosted clients; returns how many ran."""
    swept = 0
    for environment in ISVAccount.objects.filter(
            environment__in=ClientOrganization.objects.filter(hosting=Hosting.HOSTED, offboarded_at__isnull=True)
            .values("environment")).values_list("environment", flat=True):
        try:
            isv_account_sweep(environment)
        except errors.DocuSignError as exc:
            task_retry.retry_or_raise(self, exc)
        swept += 1
    return swept


@shared_task(name="docusign_integration.tasks_hosting.sweep_isv_account", bind=True, max_retries=8, acks_late=True)
def sweep_isv_account(self: Task, environment: str) -> None:
    """One ISV account's account-wide sweep now (a client came back from DocuSign's page); `environment` names it."""
    if not ISVAccount.objects.filter(environment=environment).exists():
        return  # no ISV account there (any more): nothing to sweep
    try:
        isv_account_sweep(environment)
    except errors.DocuSignError as exc:
        task_retry.retry_or_raise(self, exc)


def isv_account_sweep_soon(environment: str, reason: str) -> bool:
    """Queue the ISV account's sweep after commit unless one was queued for `reason` in the last few seconds."""
    if not cache.add(f"docusign:isv-sweep-soon:{environment}:{reason}", 1, SWEEP_SOON_SECONDS):
        return False
    transaction.on_commit(lambda: sweep_isv_account.delay(environment))
    return True
