"""A completed envelope's combined PDF is the uploaded documents' own pages, then the sandbox's stamp, then the
certificate (docs/docusign.md §6.5): so a SHA-256 over the download is a hash of what the sender uploaded and signed.

The pages are read back with pypdf, as any PDF reader would read them.
"""

from __future__ import annotations

import base64
import io

import pytest
from pypdf import PdfReader

from docusign_sandbox.pdf import text_pdf
from tests.sandbox.rest_support import Browser, recipient_view_request, serve_rest_sandbox

LEASE = text_pdf([["Lease of flat 4B", "Clause 7: the tenant may keep one cat named Ada."],
                  ["Clause 12: rent is due on the first day of each month."]], title="Lease")
ANNEX = text_pdf([["Annex A: inventory of the kitchen"]], title="Annex")


@pytest.fixture
def rest(transactional_db):
    with serve_rest_sandbox() as sandbox:
        yield sandbox


def _document(content: bytes, name: str, document_id: str) -> dict:
    return {"documentBase64": base64.b64encode(content).decode(), "name": name, "fileExtension": "pdf",
            "documentId": document_id}


def _signed(rest) -> str:
    envelope_id = rest.create_envelope(status="sent", documents=[_document(LEASE, "Lease.pdf", "1"),
                                                                 _document(ANNEX, "Annex.pdf", "2")])["envelopeId"]
    url = rest.call("POST", f"/envelopes/{envelope_id}/views/recipient", json=recipient_view_request()).json()["url"]
    browser = Browser()
    browser.open(url)
    browser.press("sign")
    return envelope_id


def _pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def test_combined_holds_each_uploaded_page_in_order_then_the_signature_stamp(rest):
    envelope_id = _signed(rest)

    pages = _pages(rest.call("GET", f"/envelopes/{envelope_id}/documents/combined").content)

    assert len(pages) == 4  # the lease's two pages, the annex's one, the stamp
    assert "Clause 7: the tenant may keep one cat named Ada." in pages[0]
    assert "Clause 12: rent is due on the first day of each month." in pages[1]
    assert "Annex A: inventory of the kitchen" in pages[2]
    assert "Signed by Ana Signer at " in pages[3]
    assert not any("Certificate Of Completion" in page for page in pages)


def test_combined_with_the_certificate_ends_with_the_certificate_page(rest):
    envelope_id = _signed(rest)

    pages = _pages(rest.call("GET", f"/envelopes/{envelope_id}/documents/combined?certificate=true").content)

    assert len(pages) == 5
    assert "Clause 7" in pages[0] and "Signed by Ana Signer" in pages[3]
    assert "Certificate Of Completion" in pages[4] and envelope_id in pages[4]


def test_one_documents_download_is_that_documents_pages_and_the_certificate_its_own(rest):
    envelope_id = _signed(rest)

    lease = _pages(rest.call("GET", f"/envelopes/{envelope_id}/documents/1").content)
    annex = _pages(rest.call("GET", f"/envelopes/{envelope_id}/documents/2").content)
    certificate = _pages(rest.call("GET", f"/envelopes/{envelope_id}/documents/certificate").content)

    assert len(lease) == 2 and "Clause 7" in lease[0] and "Clause 12" in lease[1]
    assert len(annex) == 1 and "Annex A" in annex[0]
    assert len(certificate) == 1 and "Certificate Of Completion" in certificate[0]
