"""The envelope pages: scoped to the member's organization (404 for others'), uploads checked, return events shown."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from docusign_integration.envelopes.documents import documents_download
from docusign_integration.envelopes.sync import envelopes_sweep
from docusign_integration.models import Envelope
from tests import factories
from tests.envelopes.conftest import SIMPLE_PDF, api_requests, docusign_envelope


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def acme_envelope(sandbox, acme) -> Envelope:
    in_docusign = docusign_envelope(acme.account_id, status="completed", embedded=True)
    envelopes_sweep(acme)
    envelope = Envelope.objects.get(envelope_id=in_docusign.envelope_id)
    documents_download(envelope)
    return envelope


def test_another_organization_s_member_gets_404_on_every_envelope_page_and_document(sandbox, acme, globex, acme_envelope):
    outsider = signed_in(factories.client_admin("globex-admin", globex))
    base = f"/onboarding/{acme.slug}/envelopes/"
    own_slug_base = f"/onboarding/{globex.slug}/envelopes/{acme_envelope.envelope_id}/"
    for method, url in (("get", base), ("get", f"{base}{acme_envelope.envelope_id}/"),
                        ("get", f"{base}{acme_envelope.envelope_id}/documents/combined/"),
                        ("post", f"{base}{acme_envelope.envelope_id}/sign/1/"),
                        ("post", f"{base}{acme_envelope.envelope_id}/prepare/"),
                        ("get", f"{base}{acme_envelope.envelope_id}/signed/?event=signing_complete"),
                        # Their own organization's pages with our envelope id: the same 404 as an unknown id.
                        ("get", own_slug_base), ("get", f"{own_slug_base}documents/combined/"),
                        ("post", f"{own_slug_base}sign/1/")):
        assert getattr(outsider, method)(url).status_code == 404, url
    assert outsider.get(f"/onboarding/{globex.slug}/envelopes/").context["page"].paginator.count == 0


def test_a_member_sees_the_envelope_and_downloads_its_signed_pdf(sandbox, acme, acme_envelope):
    member = signed_in(factories.client_admin("acme-admin", acme))

    page = member.get(f"/onboarding/{acme.slug}/envelopes/{acme_envelope.envelope_id}/")
    assert page.status_code == 200 and b"Completed" in page.content
    download = member.get(f"/onboarding/{acme.slug}/envelopes/{acme_envelope.envelope_id}/documents/combined/")

    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert "no-store" in download["Cache-Control"]
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    assert member.get(f"/onboarding/{acme.slug}/envelopes/not-a-guid/").status_code == 404


@pytest.mark.parametrize(("name", "content"), [("contract.pdf", b"MZ\x90\x00 an executable"), ("notes.docx", b"PK\x03\x04zip")])
def test_a_file_that_is_not_a_pdf_or_docx_is_refused_before_anything_reaches_docusign(sandbox, acme, name, content):
    member = signed_in(factories.client_admin("acme-admin", acme))

    response = member.post(f"/onboarding/{acme.slug}/envelopes/new/", {
        "subject": "Contract", "document": SimpleUploadedFile(name, content),
        "recipient-TOTAL_FORMS": "1", "recipient-INITIAL_FORMS": "0",
        "recipient-0-name": "Ana", "recipient-0-email": "ana@acme.example",
    })

    assert response.status_code == 200 and b"Upload a PDF or a Word (.docx) document." in response.content
    assert not api_requests().exists() and not Envelope.objects.exists()


def test_a_file_above_the_upload_cap_is_refused(sandbox, acme, settings):
    settings.DOCUSIGN_UPLOAD_MAX_BYTES = len(SIMPLE_PDF) - 1
    member = signed_in(factories.client_admin("acme-admin", acme))

    response = member.post(f"/onboarding/{acme.slug}/envelopes/new/", {
        "subject": "Contract", "document": SimpleUploadedFile("c.pdf", SIMPLE_PDF),
        "recipient-TOTAL_FORMS": "1", "recipient-INITIAL_FORMS": "0",
        "recipient-0-name": "Ana", "recipient-0-email": "ana@acme.example",
    })

    assert b"The file is larger than" in response.content and not api_requests().exists()


@pytest.mark.parametrize(("event", "message"), [("Send", "Sent."), ("Save", "Saved as a draft"), ("Cancel", "Nothing was sent"),
                                                ("Error", "could not send"), ("<script>", "without saying what happened")])
def test_the_sender_view_return_tells_what_happened(sandbox, acme, acme_envelope, event, message):
    member = signed_in(factories.client_admin("acme-admin", acme))

    page = member.get(f"/onboarding/{acme.slug}/envelopes/return/",
                      {"event": event, "envelope": acme_envelope.envelope_id}, follow=True)

    assert urlsplit(page.redirect_chain[-1][0]).path == f"/onboarding/{acme.slug}/envelopes/{acme_envelope.envelope_id}/"
    assert message in page.content.decode() and "<script>" not in page.content.decode()


def test_the_signing_return_changes_no_status_by_itself(sandbox, acme, settings):
    in_docusign = docusign_envelope(acme.account_id, status="sent", embedded=True)
    envelopes_sweep(acme)
    member = signed_in(factories.client_admin("acme-admin", acme))

    page = member.get(f"/onboarding/{acme.slug}/envelopes/{in_docusign.envelope_id}/signed/",
                      {"event": "signing_complete"}, follow=True)

    assert "Signed." in page.content.decode()
    assert Envelope.objects.get(envelope_id=in_docusign.envelope_id).status == "sent"  # DocuSign says so, not the URL
