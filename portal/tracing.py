"""OpenTelemetry traces of Django, requests (so every DocuSign call) and Celery, when PORTAL_TRACING is on.

Off by default, and nothing here is imported then: OpenTelemetry is the optional `tracing` extra
(`pip install '.[tracing]'`), never on the embedded default's path. The exporter is OTLP over HTTP and reads the
standard variables itself (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME ...).
A span's URL attributes are redacted like a log line (portal.log_redaction): DocuSign's redirect back carries
`?code=...&state=...` and an invitation path its token.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from portal.log_redaction import redact_url

# Attributes the instrumentations fill with a path or URL (old and new semantic conventions).
URL_ATTRIBUTES = ("http.target", "http.url", "url.full", "url.path", "url.query")
_installed = False


def setup() -> bool:
    """Install the tracer provider and the instrumentations once; return whether tracing is on."""
    global _installed
    if not getattr(settings, "PORTAL_TRACING", False):
        return False
    if _installed:
        return True
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "docusign-partner-portal"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument(request_hook=_redact_request_span)
    RequestsInstrumentor().instrument(request_hook=_redact_outgoing_span)
    CeleryInstrumentor().instrument()
    _installed = True
    return True


def _redact_request_span(span: Any, request: Any) -> None:
    if span is None or not span.is_recording():
        return
    full_path = redact_url(request.get_full_path())
    path, _, query = full_path.partition("?")
    for name, value in (("http.target", full_path), ("url.path", path), ("url.query", query),
                        ("http.url", f"{request.scheme}://{request.META.get('HTTP_HOST', '')}{full_path}")):
        span.set_attribute(name, value)


def _redact_outgoing_span(span: Any, prepared_request: Any) -> None:
    """DocuSign calls: the URL without its query string (docusign_integration.client.http logs none either)."""
    if span is None or not span.is_recording():
        return
    url = str(getattr(prepared_request, "url", "")).partition("?")[0]
    for name in ("http.url", "url.full"):
        span.set_attribute(name, url)
