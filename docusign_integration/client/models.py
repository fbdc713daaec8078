"""What DocuSign last said about an account's API budget (docs/docusign.md §9)."""

from __future__ import annotations

from django.db import models

from docusign_integration.client.conf import ENVIRONMENT_CHOICES


class AccountRateLimit(models.Model):
    """The latest `X-RateLimit-*` / `X-BurstLimit-*` headers for one account, and any block they imply.

    `http.call` refuses to call an account (0 HTTP requests) while `blocked_until` is in the future.
    """

    environment = models.CharField(max_length=20, choices=ENVIRONMENT_CHOICES)
    account_id = models.CharField(max_length=36)
    limit = models.PositiveIntegerField(null=True, blank=True)
    remaining = models.PositiveIntegerField(null=True, blank=True)
    reset_at = models.DateTimeField(null=True, blank=True)
    burst_limit = models.PositiveIntegerField(null=True, blank=True)
    burst_remaining = models.PositiveIntegerField(null=True, blank=True)
    blocked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["environment", "account_id"], name="uniq_rate_limit_account")]

    def __str__(self) -> str:
        return f"{self.environment}:{self.account_id} {self.remaining}/{self.limit}"
