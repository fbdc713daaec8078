"""Production's log lines: one JSON object a line (python-json-logger), redacted like every other line.

python-json-logger writes a record's extra attributes too, and Django's `django.request` and `django.security.csrf`
records carry the request object, whose text holds the full URL (the OAuth callback's `code` and `state`, an
invitation's token). Each value is therefore written as text redacted by portal.log_redaction, the request as its
redacted path (docs/operations.md section 10).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from pythonjsonlogger.json import JsonFormatter

from portal.log_redaction import redact_text, redact_url

FIELDS = "%(levelname)s %(name)s %(request_id)s %(message)s"


class RedactedJsonFormatter(JsonFormatter):
    def __init__(self, fmt: str = FIELDS, **kwargs: Any) -> None:
        kwargs.setdefault("timestamp", True)
        super().__init__(fmt, **kwargs)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: _redacted(value) for key, value in log_data.items()}


def _redacted(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, HttpRequest):
        return f"{value.method} {redact_url(value.get_full_path())}"
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _redacted(item) for key, item in value.items()}
    return redact_text(str(value))
