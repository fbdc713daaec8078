"""Documents DocuSign converts (HTML, plain text, DOCX) come back as PDFs of their text; multipart creation."""

from __future__ import annotations

import base64
import uuid

import pytest

from tests.sandbox.rest_support import (
    SIMPLE_PDF,
    docx_bytes,
    envelope_definition,
    pdf_is_well_formed,
    pdf_text,
    serve_rest_sandbox,
)


@pytest.fixture
def rest(transactional_db):
    with serve_rest_sandbox() as sandbox:
        yield sandbox


def _document(content: bytes, name: str, extension: str, document_id: str = "1") -> dict:
    return {"documentBase64": base64.b64encode(content).decode(), "name": name, "fileExtension": extension,
            "documentId": document_id}


def _downloaded(rest, document: dict) -> bytes:
    envelope_id = rest.create_envelope(documents=[document])["envelopeId"]
    response = rest.call("GET", f"/envelopes/{envelope_id}/documents/{document['documentId']}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    return response.content


def test_an_html_document_comes_back_as_a_pdf_of_its_visible_text(rest):
    html = (b"<html><head><title>t</title><style>p{color:red}</style></head><body><h1>Master Services Agreement</h1>"
            b"<p>Fees &amp; payment</p><script>alert('x')</script></body></html>")

    content = _downloaded(rest, _document(html, "MSA.html", "html"))

    assert pdf_is_well_formed(content)
    text = pdf_text(content)
    assert "Converted to PDF by the DocuSign sandbox" in text
    assert "Master Services Agreement" in text and "Fees & payment" in text
    assert "alert" not in text and "color:red" not in text and "<h1>" not in text


def test_a_plain_text_and_a_docx_document_are_converted(rest):
    text = pdf_text(_downloaded(rest, _document(b"Line one\nLine two", "notes.txt", "txt")))
    assert "Line one\nLine two" in text

    text = pdf_text(_downloaded(rest, _document(docx_bytes("Clause 1: scope", "Clause 2: R&D <fees>"), "T.docx", "docx")))
    assert "Clause 1: scope\nClause 2: R&D <fees>" in text


def test_a_docx_that_is_not_a_word_file_is_a_conversion_error_and_creates_nothing(rest):
    from docusign_sandbox.models import Envelope

    response = rest.call("POST", "/envelopes",
                         json=envelope_definition(documents=[_document(b"PK\x03\x04not a zip", "T.docx", "docx")]))

    assert response.status_code == 400
    assert response.json()["errorCode"] == "FORMAT_CONVERSION_ERROR"
    assert not Envelope.objects.exists()


def _multipart(definition: dict, parts: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A body as DocuSign documents it: the JSON definition, then `Content-Disposition: file; ...; documentid=N` parts."""
    import json

    boundary = uuid.uuid4().hex
    chunks = [f"--{boundary}\r\nContent-Type: application/json\r\nContent-Disposition: form-data\r\n\r\n".encode(),
              json.dumps(definition).encode(), b"\r\n"]
    for document_id, filename, content in parts:
        chunks += [f"--{boundary}\r\nContent-Type: application/pdf\r\nContent-Disposition: file; "
                   f'filename="{filename}"; documentid={document_id}\r\n\r\n'.encode(), content, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def test_multipart_creation_takes_each_documents_bytes_from_its_part(rest):
    definition = envelope_definition(status="sent", documents=[
        {"documentId": "1", "name": "NDA.pdf", "fileExtension": "pdf"},
        {"documentId": "2", "name": "Fees.html", "fileExtension": "html"}])
    binary_pdf = SIMPLE_PDF.replace(b"%%EOF", b"%\x00\xff\r\n\r\n%%EOF")  # binary bytes and CRLFs survive the parse
    body, content_type = _multipart(definition, [("1", "NDA.pdf", binary_pdf), ("2", "Fees.html", b"<p>Fee table</p>")])

    response = rest.call("POST", "/envelopes", data=body, headers={"Content-Type": content_type})

    assert response.status_code == 201, response.text
    envelope_id = response.json()["envelopeId"]
    assert rest.call("GET", f"/envelopes/{envelope_id}/documents/1").content == binary_pdf
    assert "Fee table" in pdf_text(rest.call("GET", f"/envelopes/{envelope_id}/documents/2").content)
    assert response.json()["status"] == "sent"


def test_multipart_refuses_a_document_without_bytes_and_a_part_naming_no_document(rest):
    from docusign_sandbox.models import Envelope

    definition = envelope_definition(documents=[{"documentId": "1", "name": "NDA.pdf", "fileExtension": "pdf"}])
    missing, content_type = _multipart(definition, [])
    stray, stray_type = _multipart(definition, [("1", "NDA.pdf", SIMPLE_PDF), ("7", "x.pdf", SIMPLE_PDF)])

    for body, kind in ((missing, content_type), (stray, stray_type)):
        response = rest.call("POST", "/envelopes", data=body, headers={"Content-Type": kind})
        assert response.status_code == 400
        assert response.json()["errorCode"] == "INVALID_MULTI_PART_REQUEST"
    assert not Envelope.objects.exists()
