"""A request id on every log line of a request and of the Celery tasks it enqueues (docs/operations.md section 10).

The id comes from a well-formed incoming `X-Request-ID` (a load balancer's or the ISV's own product's), else a new
one; it is answered in the response's `X-Request-ID`, carried to each task the request publishes in a message
header (`before_task_publish`), and set again for the task's run in the worker (`task_prerun` / `task_postrun`).
`RequestIdFilter` puts it on every record as `request_id` ("-" outside a request or task).

Written here rather than taken from django-guid: django-guid checks an incoming id with `uuid.UUID()`, which accepts
any number of hyphens (no length cap), logs the rejected header's value, and in eager mode its `task_prerun` replaces
the request's id with a new one and its `task_postrun` clears it for the rest of the request.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any

from celery.signals import after_setup_logger, after_setup_task_logger, before_task_publish, task_postrun, task_prerun
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
TASK_HEADER = "portal_request_id"  # the Celery message header; never a task argument
# Letters, digits and `-_.:`, 8 to 64 characters: a UUID, a 32-hex id (nginx's $request_id), a trace id. Anything
# else (longer, a space, a quote, a newline that would forge a log line) is replaced by a new id.
WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_.:]{7,63}")
NONE = "-"

_current: ContextVar[str] = ContextVar("portal_request_id", default=NONE)
_task_tokens: dict[str, Token[str]] = {}


def current() -> str:
    """The id of the request or task running in this context, or "-"."""
    return _current.get()


def new_id() -> str:
    return uuid.uuid4().hex


def from_header(value: str | None) -> str:
    """`value` when it is a well-formed id, else a new id (the bad value is neither kept nor logged)."""
    if value and WELL_FORMED.fullmatch(value):
        return value
    return new_id()


class RequestIdMiddleware:
    """Sets the request's id for everything the request runs (views, tasks it enqueues, log lines)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = from_header(request.headers.get(HEADER))
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response.headers[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (on the handlers in settings.LOGGING, so every logger's lines get it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current.get()
        return True


@before_task_publish.connect
def _carry_to_task(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    request_id = _current.get()
    if headers is not None and request_id != NONE:
        headers[TASK_HEADER] = request_id


@task_prerun.connect
def _set_for_task(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    if task is None or task_id is None:
        return
    carried = task.request.get(TASK_HEADER)
    if task.request.is_eager and carried is None:
        return  # run in the enqueuing request's own context: its id is already set
    _task_tokens[task_id] = _current.set(from_header(carried))


@task_postrun.connect
def _unset_after_task(task_id: str | None = None, **kwargs: Any) -> None:
    token = _task_tokens.pop(task_id or "", None)
    if token is not None:
        _current.reset(token)


@after_setup_logger.connect
@after_setup_task_logger.connect
def _worker_log_lines(logger: logging.Logger | None = None, **kwargs: Any) -> None:
    """A Celery worker replaces Django's handlers with its own: give them the request id, the redaction of
    docs/operations.md section 1 and, in production, the same JSON lines as the web processes."""
    from django.conf import settings

    from portal.log_format import RedactedJsonFormatter
    from portal.log_redaction import RedactSecretsFilter

    if logger is None:
        return
    json_lines = settings.LOGGING["handlers"]["console"]["formatter"] == "json"
    for handler in logger.handlers:
        handler.addFilter(RequestIdFilter())
        handler.addFilter(RedactSecretsFilter())
        if json_lines:
            handler.setFormatter(RedactedJsonFormatter())
