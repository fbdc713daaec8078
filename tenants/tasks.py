"""Beat work of the tenants domain."""

from __future__ import annotations

from celery import shared_task

from tenants import readiness


@shared_task
def refresh_readiness() -> int:
    """Beat: record Ready (or take it back) for every organization whose facts changed; returns how many changed."""
    changed = 0
    for organization in readiness.to_change().iterator():
        readiness.readiness_refresh(acting_user=None, organization=organization)
        changed += 1
    return changed
