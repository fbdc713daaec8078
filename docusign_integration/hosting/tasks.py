"""Background work for hosted clients. Tasks take ids only."""

from __future__ import annotations

from celery import Task, shared_task
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import transaction

from background import task_retry
from docusign_integration.client import errors
from docusign_integration.consent.tasks import check_consent_task
from docusign_integration.envelopes.tasks import SWEEP_SOON_SECONDS
from docusign_integration.hosting.isv_setup import isv_account_setup_check, isv_account_setup_push
from docusign_integration.hosting.provisioning import (
    failure_kept_on,
    hosted_client_record,
    hosted_system_user_close,
    hosted_system_user_provision,
)
from docusign_integration.hosting.sweep import isv_account_sweep
from tenants.active import organization_is_active
from tenants.models import ClientOrganization, Hosting, ISVAccount


def hosted_client_provision_soon(*, acting_user: User | None, name: str, environment: str,
                                 slug: str | None = None) -> ClientOrganization:
    """Staff's "provision a hosted client" (or again): recorded now without asking DocuSign, its user made in the
    background once the record is committed."""
    organization = hosted_client_record(acting_user=acting_user, name=name, environment=environment, slug=slug)
    acting_user_id = acting_user.pk if acting_user else None
    transaction.on_commit(lambda: provision_hosted_system_user.delay(organization.pk, acting_user_id))
    return organization


def hosted_system_user_run(*, acting_user: User | None, organization: ClientOrganization) -> None:
    """One run of the task's work (the task, and `provision_client --hosted` in its own process): create or find the
    user, record it, then queue its consent check (the ISV's organization admin consent covers it: the check records
    that, so staff need not press Check consent). Raises what `hosted_system_user_provision` raises."""
    if hosted_system_user_provision(acting_user=acting_user, organization=organization):
        transaction.on_commit(lambda: check_consent_task.delay(organization.pk))


@shared_task(name="docusign_integration.tasks_hosting.provision_hosted_system_user", bind=True, max_retries=5,
             acks_late=True)
def provision_hosted_system_user(self: Task, organization_id: int, acting_user_id: int | None = None) -> None:
    """Create or find a hosted client's system user in the ISV account. Safe to run twice: the second finds the user
    by email and records nothing. Transient failures retry; one that ends the task is kept on the organization in
    words, then raised (the dead letter)."""
    organization = ClientOrganization.objects.filter(pk=organization_id, hosting=Hosting.HOSTED).first()
    if not organization_is_active(organization, task="provision_hosted_system_user"):
        return  # deleted or offboarded since: no user to make for it
    acting_user = get_user_model().objects.filter(pk=acting_user_id).first() if acting_user_id else None
    with failure_kept_on(organization):  # Retry is not a failure: it passes through, nothing is kept
        try:
            hosted_system_user_run(acting_user=acting_user, organization=organization)
        except errors.DocuSignError as exc:
            if (self.request.retries or 0) < (self.max_retries or 0):
                task_retry.retry_if_temporary(self, exc)  # raises Retry unless the failure is permanent
            raise


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


@shared_task(name="docusign_integration.tasks_hosting.isv_account_setup_push", bind=True, max_retries=5, acks_late=True)
def isv_account_setup_push_task(self: Task, environment: str, acting_user_id: int | None = None) -> None:
    """Push the portal's Connect configuration and settings to the ISV account; a refusal is recorded, not retried."""
    acting_user = get_user_model().objects.filter(pk=acting_user_id).first() if acting_user_id else None
    try:
        isv_account_setup_push(acting_user=acting_user, environment=environment)
    except errors.DocuSignError as exc:
        task_retry.retry_if_temporary(self, exc)  # a refusal is on the ISV account's row, where staff see it


@shared_task(name="docusign_integration.tasks_hosting.isv_account_setup_check", bind=True, max_retries=5, acks_late=True)
def isv_account_setup_check_task(self: Task, environment: str | None = None) -> None:
    """Record whether the ISV account (of `environment`, or each one: the daily drift check) is in sync. Read-only."""
    environments = ISVAccount.objects.values_list("environment", flat=True)
    for name in [environment] if environment else list(environments):
        try:
            isv_account_setup_check(environment=name)
        except errors.DocuSignError as exc:
            task_retry.retry_or_raise(self, exc)
