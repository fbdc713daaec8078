"""Traces (docs/operations.md section 10): off by default with nothing of OpenTelemetry imported; on, Django and
DocuSign calls are traced with their URLs redacted. Each run is a process of its own: instrumenting changes
settings.MIDDLEWARE and patches requests for the whole process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import django
django.setup()
print(json.dumps(sorted({name.split('.')[0] for name in sys.modules if name.startswith('opentelemetry')})))
"""

TRACED = """
import json
import django
django.setup()
from django.core.management import call_command
call_command('migrate', verbosity=0)  # in memory: the pages below read the database
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from django.test import Client
exporter = InMemorySpanExporter()
trace.get_tracer_provider().add_span_processor(SimpleSpanProcessor(exporter))
Client().get('/docusign/callback/?code=CANARY-code-0123&state=CANARY-state-4567', HTTP_HOST='127.0.0.1')
Client().get('/onboarding/invitations/CANARY-token-89ab/', HTTP_HOST='127.0.0.1')
import requests
try:
    requests.get('http://127.0.0.1:1/oauth/userinfo?CANARY-query=1', timeout=1)
except requests.RequestException:
    pass
print(json.dumps([{'name': s.name, 'attributes': dict(s.attributes)} for s in exporter.get_finished_spans()]))
"""


def run(code: str, **env: str) -> str:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": "sqlite:///:memory:",
                   "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", **env}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def test_tracing_is_off_by_default_and_imports_nothing():
    assert json.loads(run(PROBE, PORTAL_TRACING="false")) == []


def test_traced_requests_and_docusign_calls_carry_no_secret():
    pytest.importorskip("opentelemetry.instrumentation.django", reason="the optional `tracing` extra is not installed")
    spans = json.loads(run(TRACED, PORTAL_TRACING="true"))
    kinds = {span["name"] for span in spans}
    assert any(name.startswith("GET") for name in kinds) and len(spans) >= 3, spans
    text = json.dumps(spans)
    assert "CANARY" not in text, text
    assert "/docusign/callback/?code=[redacted]&state=[redacted]" in text
