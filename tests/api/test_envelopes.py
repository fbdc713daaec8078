"""Listing (cursor pages, filters, a query count that does not grow), void, resend, the sender view, the docs pages."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.client import encode_multipart
from django.test.utils import CaptureQueriesContext

from docusign_sandbox.models import Envelope as SandboxEnvelope
from tests.api.conftest import ISV_ORIGIN, document_envelope
from tests.envelopes.conftest import SIMPLE_PDF, api_requests


def test_list_pages_with_a_cursor_and_filters_by_status_metadata_and_update_time(sandbox, acme, acme_api):
    made = [acme_api.post("envelopes", document_envelope(status="created" if n == 0 else "sent",
                                                         metadata={"order": f"A-{n}"})).json() for n in range(3)]
    first = acme_api.get("envelopes", {"page_size": 2}).json()
    second = acme_api.client.get(first["next"]).json()
    assert [e["envelope_id"] for e in first["results"] + second["results"]] == [m["envelope_id"] for m in made[::-1]]
    assert second["next"] is None

    by_status = acme_api.get("envelopes", {"status": "created"}).json()["results"]
    assert [e["envelope_id"] for e in by_status] == [made[0]["envelope_id"]]
    by_metadata = acme_api.get("envelopes", {"metadata_key": "order", "metadata_value": "A-2"}).json()["results"]
    assert [e["envelope_id"] for e in by_metadata] == [made[2]["envelope_id"]]
    assert acme_api.get("envelopes", {"updated_since": "2999-01-01T00:00:00Z"}).json()["results"] == []
    refused = acme_api.get("envelopes", {"metadata_value": "A-2"})
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "metadata_key"


def test_listing_costs_the_same_queries_for_one_envelope_or_fifty(sandbox, acme, acme_api):
    def list_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert acme_api.get("envelopes", {"page_size": 50}).status_code == 200
        return len(captured)

    acme_api.post("envelopes", document_envelope(metadata={"a": "1"}))
    one = list_queries()
    for _ in range(4):
        acme_api.post("envelopes", document_envelope(metadata={"a": "1", "b": "2"}))
    assert list_queries() == one


def test_void_and_resend_reach_docusign_and_are_recorded(sandbox, acme, acme_api):
    envelope = acme_api.post("envelopes", document_envelope(end_user_id=None)).json()
    resent = acme_api.post(f"envelopes/{envelope['envelope_id']}/resend")
    assert resent.status_code == 200, resent.content
    assert api_requests(r"/envelopes/[^/]+$", "PUT").count() == 1

    voided = acme_api.post(f"envelopes/{envelope['envelope_id']}/void", {"reason": "Wrong customer"})
    assert voided.status_code == 200, voided.content
    assert voided.json()["status"] == "voided" and voided.json()["voided_reason"] == "Wrong customer"
    assert SandboxEnvelope.objects.get(envelope_id=envelope["envelope_id"]).status == "voided"
    again = acme_api.post(f"envelopes/{envelope['envelope_id']}/void", {"reason": "Twice"})
    assert again.status_code == 400 and api_requests(r"/envelopes/[^/]+$", "PUT").count() == 2


def test_a_draft_gets_a_sender_view_returning_to_the_isv(sandbox, acme, acme_api):
    draft = acme_api.post("envelopes", document_envelope(status="created")).json()
    view = acme_api.post(f"envelopes/{draft['envelope_id']}/sender_view", {"return_url": f"{ISV_ORIGIN}/sent"})
    assert view.status_code == 201 and view.json()["url"].startswith(sandbox.url)


def test_schema_swagger_ui_and_redoc_are_served_by_the_portal_without_a_cdn(db):
    client = Client()
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"/api/v1/envelopes" in schema.content
    for page in ("/api/v1/docs/", "/api/v1/redoc/"):
        html = client.get(page).content.decode()
        assert "/static/drf_spectacular_sidecar/" in html, page
        assert "https://" not in html and "//cdn" not in html, page  # nothing from another origin (fonts included)
        assert "<style" not in html and "<script>" not in html, page  # no inline code (the portal's CSP rule)


def test_documents_may_come_as_multipart_files(sandbox, acme, acme_api):
    body = document_envelope()
    del body["documents"]
    upload = SimpleUploadedFile("agreement.pdf", SIMPLE_PDF, content_type="application/pdf")
    created = acme_api.client.post("/api/v1/envelopes", {"envelope": json.dumps(body), "documents": [upload]},
                                   HTTP_IDEMPOTENCY_KEY="multipart-1")
    assert created.status_code == 201, created.content
    stored = SandboxEnvelope.objects.get(envelope_id=created.json()["envelope_id"]).documents.get()
    assert stored.content == SIMPLE_PDF
    # A retry by a client that picks another multipart boundary (curl does, per request) is the same request.
    retry = encode_multipart("another-boundary", {"envelope": json.dumps(body), "documents": [
        SimpleUploadedFile("agreement.pdf", SIMPLE_PDF, content_type="application/pdf")]})
    replayed = acme_api.client.post("/api/v1/envelopes", retry, content_type="multipart/form-data; boundary=another-boundary",
                                    HTTP_IDEMPOTENCY_KEY="multipart-1")
    assert replayed.status_code == 201 and replayed["Idempotent-Replayed"] == "true"
    assert SandboxEnvelope.objects.count() == 1

    not_a_pdf = SimpleUploadedFile("a.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    refused = acme_api.client.post("/api/v1/envelopes", {"envelope": json.dumps(body), "documents": [not_a_pdf]},
                                   HTTP_IDEMPOTENCY_KEY="multipart-2")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "documents.0.content_base64"
