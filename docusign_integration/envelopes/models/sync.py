"""Where each client organization's envelope status polling stands (the fallback behind Connect, product journey 7)."""

from __future__ import annotations

from django.db import models


class AccountSyncState(models.Model):
    """One organization's polling watermark and what its last sweep met.

    `watermark` is DocuSign's time up to which every status change has been read: it moves only after a sweep read
    every page, so a failed sweep is simply repeated from the same point. `next_allowed_at` is set from a rate-limit
    refusal's reset time; no sweep calls DocuSign for this account before it.
    """

    organization = models.OneToOneField("tenants.ClientOrganization", on_delete=models.CASCADE, related_name="sync_state")
    watermark = models.DateTimeField(null=True, blank=True, help_text="Every status change before this has been read.")
    last_sweep_at = models.DateTimeField(null=True, blank=True, help_text="When the last complete sweep started.")
    last_sweep_calls = models.PositiveIntegerField(default=0, help_text="DocuSign calls the last complete sweep made.")
    last_sweep_changes = models.PositiveIntegerField(default=0, help_text="Status changes the last complete sweep applied.")
    last_error = models.CharField(max_length=500, blank=True, help_text="What went wrong last, in words a person can act on.")
    next_allowed_at = models.DateTimeField(null=True, blank=True, help_text="No call before this (a rate limit's reset).")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "envelope sync state"

    def __str__(self) -> str:
        return f"Envelope sync of {self.organization_id}"
