"""Envelope documents over loopback HTTP: the list, raw bytes, combined, certificate and archive."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.sandbox.rest_support import (
    SIMPLE_PDF,
    Browser,
    pdf_is_well_formed,
    pdf_text,
    recipient_view_request,
    serve_rest_sandbox,
)


@pytest.fixture
def rest(transactional_db):
    with serve_rest_sandbox() as sandbox:
        yield sandbox


def _signed_envelope(rest) -> str:
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]
    url = rest.call("POST", f"/envelopes/{envelope_id}/views/recipient", json=recipient_view_request()).json()["url"]
    browser = Browser()
    browser.open(url)
    browser.press("sign")
    return envelope_id


def test_the_document_list_names_each_document_and_the_certificate(rest):
    envelope_id = rest.create_envelope()["envelopeId"]

    listing = rest.call("GET", f"/envelopes/{envelope_id}/documents").json()

    assert listing["envelopeId"] == envelope_id
    nda, certificate = listing["envelopeDocuments"]
    assert (nda["documentId"], nda["name"], nda["type"], nda["order"]) == ("1", "NDA.pdf", "content", "1")
    assert nda["uri"] == f"/envelopes/{envelope_id}/documents/1"
    assert nda["sizeBytes"] == str(len(SIMPLE_PDF))
    assert len(nda["pages"]) == 1
    assert (certificate["documentId"], certificate["type"]) == ("certificate", "summary")


def test_a_document_comes_back_as_the_bytes_uploaded_with_docusigns_headers(rest):
    envelope_id = rest.create_envelope()["envelopeId"]

    response = rest.call("GET", f"/envelopes/{envelope_id}/documents/1")

    assert response.status_code == 200
    assert response.content == SIMPLE_PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == 'file; filename="NDA.pdf"; documentid="1"'


def test_an_unknown_document_is_document_does_not_exist(rest):
    envelope_id = rest.create_envelope()["envelopeId"]

    response = rest.call("GET", f"/envelopes/{envelope_id}/documents/9")

    assert response.status_code == 400
    assert response.json()["errorCode"] == "DOCUMENT_DOES_NOT_EXIST"


def test_combined_after_signing_is_a_valid_pdf_stamped_with_the_signature(rest):
    envelope_id = _signed_envelope(rest)

    response = rest.call("GET", f"/envelopes/{envelope_id}/documents/combined")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert pdf_is_well_formed(response.content)
    assert "Signed by Ana Signer at " in pdf_text(response.content)
    assert "Certificate Of Completion" not in pdf_text(response.content)  # attachCompletedEnvelope is "false"


def test_combined_carries_the_certificate_when_asked_or_when_the_account_attaches_it(rest):
    envelope_id = _signed_envelope(rest)

    asked = rest.call("GET", f"/envelopes/{envelope_id}/documents/combined?certificate=true").content
    rest.call("PUT", "/settings", token=rest.admin_token, json={"attachCompletedEnvelope": "true"})
    by_setting = rest.call("GET", f"/envelopes/{envelope_id}/documents/combined").content
    refused = rest.call("GET", f"/envelopes/{envelope_id}/documents/combined?certificate=false").content

    assert "Certificate Of Completion" in pdf_text(asked) and pdf_is_well_formed(asked)
    assert "Certificate Of Completion" in pdf_text(by_setting)
    assert "Certificate Of Completion" not in pdf_text(refused)


def test_the_certificate_is_a_valid_pdf_recording_the_signers_events(rest):
    envelope_id = _signed_envelope(rest)

    content = rest.call("GET", f"/envelopes/{envelope_id}/documents/certificate").content

    assert pdf_is_well_formed(content)
    text = pdf_text(content)
    assert f"Envelope Id: {envelope_id}" in text
    assert "Ana Signer <ana@client.example> (signer): completed" in text


def test_the_archive_is_a_zip_of_the_documents_and_the_certificate(rest):
    envelope_id = _signed_envelope(rest)

    response = rest.call("GET", f"/envelopes/{envelope_id}/documents/archive")

    assert response.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == ["NDA.pdf", "Summary.pdf"]
    assert archive.read("NDA.pdf") == SIMPLE_PDF
    assert pdf_is_well_formed(archive.read("Summary.pdf"))
