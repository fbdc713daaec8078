"""A task that fails for good becomes a dead letter and an alert (docs/security.md BG-1, TS-8 "inside a task").

Celery sends `task_failure` when a task raises: a permanent error, or the original exception re-raised by
`Task.retry` once `max_retries` are spent (background.task_retry). Retries themselves are not failures.
When the same call later succeeds (`task_success`), its open dead letter is closed.
The alert is an ERROR log line and a mail to ADMINS with Django's error report, built with the project's
SecretScrubbingFilter, active even under DEBUG: every frame's local variables are cleansed by name (a local called
`refresh_token` is hidden even without @sensitive_variables), the exception texts are scrubbed, and the whole
report loses any value of a secret setting and any credentials inside a URL.
"""

from __future__ import annotations

import logging
import sys
from types import TracebackType
from typing import Any

from celery.signals import task_failure, task_success
from django.core.mail import mail_admins
from django.urls import reverse
from django.views.debug import ExceptionReporter

from background.dead_letters import dead_letter_resolve_after_success, dead_letter_write, scrub_message, scrub_report
from background.errors import SecretScrubbingFilter
from background.models import FailedTask

logger = logging.getLogger("background.dead_letters")


class TaskReportFilter(SecretScrubbingFilter):
    """SecretScrubbingFilter (locals with secret-looking names hidden), active whatever DEBUG says."""

    def is_active(self, request: object) -> bool:
        return True  # a worker's mail leaves the machine even on a developer's DEBUG=True settings


class TaskFailureReporter(ExceptionReporter):
    """Django's error report for a task: no request, TaskReportFilter, exception texts scrubbed."""

    def __init__(self, exc: BaseException, traceback: TracebackType | None) -> None:
        super().__init__(None, type(exc), exc, traceback, is_email=True)
        self.filter = TaskReportFilter()

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        if data.get("exception_value") is not None:
            data["exception_value"] = scrub_message(str(data["exception_value"]))
        for frame in data.get("frames", []):
            if frame.get("exc_cause") is not None:
                frame["exc_cause"] = scrub_message(str(frame["exc_cause"]))
        return data


def alert(row: FailedTask, exc: BaseException, traceback: TracebackType | None) -> None:
    """Mail ADMINS about a new dead letter: what failed, with which ids, and the scrubbed error report."""
    summary = "\n".join([
        f"Task: {row.task_name}",
        f"Task id: {row.task_id}",
        f"Arguments: {row.args} {row.kwargs or ''}".rstrip(),
        f"Exception: {row.exception_class}" + (f" ({row.error_code})" if row.error_code else ""),
        f"Message: {row.message}",
        f"Retries done: {row.retries}; failures of this call: {row.failure_count}",
        f"Dead letter: {reverse('admin:background_failedtask_change', args=[row.pk])} "
        f"(retry or resolve it there, or with `manage.py failed_tasks`)",
        "Further failures of this task within 10 minutes are recorded without a mail.",
    ])
    try:
        reporter = TaskFailureReporter(exc, traceback)
        text, html = str(reporter.get_traceback_text()), str(reporter.get_traceback_html())
    except Exception:  # a report that cannot be built must not cost the alert itself
        logger.exception("error report for dead letter %s could not be built", row.pk)
        text, html = "", None
    subject = f"Task failed for good: {row.task_name} ({row.exception_class.rsplit('.', 1)[-1]})"
    try:
        mail_admins(subject, scrub_report(f"{summary}\n\n{text}"),
                    html_message=scrub_report(html) if html else None, fail_silently=False)
    except Exception:
        logger.exception("ADMINS not mailed about dead letter %s", row.pk)


def _original(exception: BaseException | None) -> BaseException | None:
    """The exception the task raised. Celery hands the signal a picklable copy, which for a DocuSignError with
    keyword-only arguments (RateLimited's reset_at) is its base class without the error code; the original is
    still the exception being handled while the signal is sent."""
    raised = sys.exc_info()[1]
    if raised is None or exception is None:
        return exception if exception is not None else raised
    if raised is exception or isinstance(raised, type(exception)) or type(raised).__name__ == getattr(
            exception, "exc_cls_name", None):
        return raised
    return exception


@task_failure.connect
def record_failed_task(sender: Any = None, task_id: str | None = None, exception: BaseException | None = None,
                       args: Any = None, kwargs: Any = None, traceback: TracebackType | None = None,
                       **extra: Any) -> None:
    """Celery's `task_failure`: write the dead letter. Never raises (Celery would only log it, mid-failure)."""
    try:
        exc = _original(exception)
        if exc is None:
            return
        request = getattr(sender, "request", None)
        dead_letter_write(task_name=getattr(sender, "name", None) or "unknown", task_id=task_id or "",
                          args=args if args is not None else [], kwargs=kwargs if kwargs is not None else {},
                          exc=exc, retries=getattr(request, "retries", 0) or 0,
                          traceback=traceback or exc.__traceback__)
    except Exception:
        logger.exception("dead letter not recorded for task %s", getattr(sender, "name", "unknown"))


@task_success.connect
def resolve_after_success(sender: Any = None, **_: Any) -> None:
    """Celery's `task_success`: a call that failed for good before and now succeeded needs no person any more."""
    try:
        request = sender.request
        dead_letter_resolve_after_success(task_name=sender.name, args=request.args or [], kwargs=request.kwargs or {})
    except Exception:  # bookkeeping must never turn a task's success into an error
        logger.exception("dead letter not resolved after task %s succeeded", getattr(sender, "name", "unknown"))
