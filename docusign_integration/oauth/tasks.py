"""Keeping "Connect to DocuSign" connections alive: a beat task fans out one refresh task per connection.

A DocuSign refresh token lives about 30 days; refreshing with `extended` restarts that (docs/docusign.md §4). Connections
whose refresh token expires within 10 days are refreshed, so an admin who is away for weeks keeps a working
connection. Tasks take ids only; a refused refresh marks the connection "needs reconnecting" and is not retried.
"""

from __future__ import annotations

from celery import Task, shared_task

from background import task_retry
from docusign_integration.client import errors
from docusign_integration.oauth import credentials
from docusign_integration.oauth.models.credentials import DocuSignCredential
from tenants.active import active_only, organization_is_active

BACKOFF_BASE = 60  # seconds; a refresh has ten days of slack, so it backs off slower than other tasks


@shared_task(name="docusign_integration.tasks_credentials.refresh_expiring_credentials")
def refresh_expiring_credentials() -> int:
    """Queue `refresh_credential` for every connection due; returns how many were queued."""
    ids = [str(pk) for pk in active_only(credentials.credentials_due_for_refresh(), via="organization__")]
    for credential_id in ids:
        refresh_credential.delay(credential_id)
    return len(ids)


@shared_task(name="docusign_integration.tasks_credentials.refresh_credential", bind=True, max_retries=3, acks_late=True)
def refresh_credential(self: Task, credential_id: str) -> None:
    """Refresh one connection. Safe to run twice: the row lock lets only one refresh happen, the other re-reads."""
    credential = DocuSignCredential.objects.select_related("organization").filter(pk=credential_id).first()
    if credential is None or not organization_is_active(credential.organization, task="refresh_credential"):
        return  # disconnected, or its organization offboarded, since it was queued
    try:
        credentials.credential_refresh(credential_id)
    except credentials.ReconnectRequired:
        return  # recorded on the connection and shown to its admin; retrying cannot help
    except errors.DocuSignError as exc:
        task_retry.retry_or_raise(self, exc, base=BACKOFF_BASE)
