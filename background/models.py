"""The dead-letter table: background tasks that failed for good and wait for a person (docs/security.md BG-1)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

# What a dead letter stores instead of an argument that is not an id (the value itself is never kept).
NOT_AN_ID = "<not an id>"


class FailedTask(models.Model):
    """One task call (task name + id arguments) that failed for good; repeats of the same call update this row.

    Only ids are kept (`background.dead_letters.safe_arguments`), and `message` is DocuSign's user-facing sentence or
    a scrubbed, shortened exception text: the table never holds a token, a password or a document.
    """

    task_name = models.CharField(max_length=200)
    task_id = models.CharField("last task id", max_length=64, blank=True)
    args = models.JSONField("arguments", default=list, blank=True)
    kwargs = models.JSONField("keyword arguments", default=dict, blank=True)
    # sha256 of the stored arguments: "the same call" in one indexed column, whatever the arguments' size.
    call_digest = models.CharField(max_length=64, editable=False)
    exception_class = models.CharField(max_length=200)
    error_code = models.CharField("DocuSign error code", max_length=100, blank=True)
    message = models.CharField(max_length=300, blank=True)
    retries = models.PositiveIntegerField("retries done", default=0)
    failure_count = models.PositiveIntegerField("failures", default=1)
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    alerted_at = models.DateTimeField("ADMINS mailed at", null=True, blank=True)
    resolved = models.BooleanField(default=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    resolution = models.CharField(max_length=20, blank=True)  # "retried", "resolved" or "succeeded" (a later run)

    class Meta:
        db_table = "portal_failedtask"  # the table kept its name when the model moved from portal (no row moved)
        ordering = ["resolved", "-last_failed_at"]
        verbose_name = "failed task"
        constraints = [
            # At most one open dead letter per call, so a failing beat task updates one row instead of piling up.
            models.UniqueConstraint(fields=["task_name", "call_digest"], condition=Q(resolved=False),
                                    name="portal_failedtask_one_open_per_call"),
        ]
        indexes = [models.Index(fields=["resolved", "-last_failed_at"], name="portal_failedtask_open")]

    def __str__(self) -> str:
        return f"{self.task_name}({', '.join(map(str, self.args))}) failed: {self.exception_class}"

    @property
    def can_retry(self) -> bool:
        """True when every argument was an id, so the call can be queued again exactly as it was."""
        values = [*self.args, *self.kwargs.values()]
        return NOT_AN_ID not in values and not any(isinstance(v, list) and NOT_AN_ID in v for v in values)
