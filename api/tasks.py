"""The ISV API's periodic work (Celery beat): forget Idempotency-Key answers past their 24 hours."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .idempotency import KEPT
from .models import IdempotentRequest


@shared_task
def purge_idempotency_keys() -> int:
    """Delete the Idempotency-Key rows older than 24 hours (a lookup ignores them already); how many."""
    deleted, _ = IdempotentRequest.objects.filter(created__lt=timezone.now() - KEPT).delete()
    return deleted

