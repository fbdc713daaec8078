"""Listing (cursor pages, filters, a query count that does not grow), void, resend, the sender view, the docs pages."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from docusign_sandbox.models import Envelope as SandboxEnvelope
from tests.api.conftest import ISV_ORIGIN, document_envelope
from tests.envelopes.conftest import api_requests


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
