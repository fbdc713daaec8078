"""Envelope documents: the list, one document's bytes, and `combined`, `certificate`, `archive`: docs/docusign.md §6.5.

Uploaded PDFs come back as the bytes uploaded; HTML, plain text and DOCX were converted to PDF on upload
(conversion.py). A document stored before conversion existed comes back as a generated page that names it.
`combined` is every document's own pages in order (joined with pypdf, see pdf.py), then the sandbox's signature
stamp page, then (when asked) the Certificate of Completion; a digest of it is therefore a digest of what was uploaded and signed.
Reference: https://developers.docusign.com/docs/esign-rest-api/reference/envelopes/envelopedocuments/
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from . import clock, pdf
from .api import ApiError, Caller, json_response, rest_endpoint
from .envelopes import envelope_for
from .models import Document, Envelope
from .serializers import documents_json


def _pdf_name(name: str) -> str:
    return name if name.lower().endswith(".pdf") else f"{name.rpartition('.')[0] or name}.pdf"


def _file_response(content: bytes, filename: str, document_id: str, content_type: str = "application/pdf") -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    # DocuSign's own header form (its OpenAPI spec): `file; filename="NDA.pdf"; documentid="1"`. Quotes in a
    # sender-chosen name would break out of the quoted string, so they are replaced.
    safe_name = filename.replace('"', "'").replace("\r", " ").replace("\n", " ")
    response["Content-Disposition"] = f'file; filename="{safe_name}"; documentid="{document_id}"'
    return response


def document_pdf(document: Document) -> bytes:
    content = bytes(document.content)
    if content.startswith(b"%PDF-"):
        return content
    return _stand_in(document, "DocuSign sandbox, which does not convert documents to PDF.")


def _signature_lines(envelope: Envelope) -> list[str]:
    lines = []
    for signer in envelope.recipients.filter(recipient_type="signer").order_by("routing_order", "pk"):
        if signer.signed_at:
            lines.append(f"Signed by {signer.name} at {clock.iso(signer.signed_at)}")
        elif signer.declined_at:
            lines.append(f"Declined by {signer.name} at {clock.iso(signer.declined_at)}: {signer.declined_reason}")
    return lines or ["Not signed yet."]


def certificate_lines(envelope: Envelope) -> list[str]:
    """The Certificate of Completion's text: the envelope's events and every recipient's."""
    lines = [
        "Certificate Of Completion", "",
        f"Envelope Id: {envelope.envelope_id}", f"Subject: {envelope.email_subject}",
        f"Status: {envelope.status.capitalize()}",
        f"Envelope Originator: {envelope.sender.name} <{envelope.sender.email}>",
        f"Documents: {envelope.documents.count()}", "",
        "Record Tracking",
        f"Created: {clock.iso(envelope.created_at)}",
    ]
    for label, value in (("Sent", envelope.sent_at), ("Delivered", envelope.delivered_at),
                         ("Completed", envelope.completed_at), ("Declined", envelope.declined_at),
                         ("Voided", envelope.voided_at)):
        if value:
            lines.append(f"{label}: {clock.iso(value)}")
    lines += ["", "Signer Events"]
    for recipient in envelope.recipients.order_by("routing_order", "pk"):
        lines.append(f"{recipient.name} <{recipient.email}> ({recipient.recipient_type}): {recipient.status}")
        lines += [f"    {label}: {clock.iso(value)}" for label, value in (
            ("Sent", recipient.sent_at), ("Viewed", recipient.delivered_at), ("Signed", recipient.signed_at),
            ("Declined", recipient.declined_at)) if value]
    return lines


def certificate_pdf(envelope: Envelope) -> bytes:
    return pdf.text_pdf([certificate_lines(envelope)], title=f"Certificate of Completion {envelope.envelope_id}")


def _stand_in(document: Document, reason: str) -> bytes:
    content = bytes(document.content)
    return pdf.text_pdf([[f"{document.name}", "", f"This {document.file_extension.upper()} document ({len(content)} bytes) "
                          "was uploaded to the", reason]], title=document.name)


def _pages_of(document: Document) -> bytes:
    """The document's own pages; a stand-in page for what the sandbox cannot read (DOCX, a malformed PDF)."""
    content = document_pdf(document)
    if pdf.readable_pages(content) is None:
        return _stand_in(document, "DocuSign sandbox, which cannot read its pages.")
    return content


def stamp_pdf(envelope: Envelope) -> bytes:
    """The sandbox's signature stamp: who signed (or declined) when, after the documents' pages."""
    return pdf.text_pdf([[f"Envelope {envelope.envelope_id}: {envelope.email_subject}", "", *_signature_lines(envelope)]],
                        title=f"Signatures {envelope.envelope_id}")


def combined_pdf(envelope: Envelope, with_certificate: bool) -> bytes:
    """Each document's pages in order, then the signature stamp, then the certificate when asked."""
    parts = [_pages_of(document) for document in envelope.documents.order_by("order", "pk")]
    parts.append(stamp_pdf(envelope))
    if with_certificate:
        parts.append(certificate_pdf(envelope))
    return pdf.concatenate(parts, title=envelope.email_subject)


@rest_endpoint
@require_GET
def document_list(request: HttpRequest, caller: Caller, envelope_id: str) -> HttpResponse:
    """GET /envelopes/{id}/documents, with the certificate listed as DocuSign lists it."""
    envelope = envelope_for(caller, envelope_id)
    return json_response({"envelopeId": envelope.envelope_id, "envelopeDocuments": documents_json(envelope)})


@rest_endpoint
@require_GET
def document(request: HttpRequest, caller: Caller, envelope_id: str, document_id: str) -> HttpResponse:
    """GET /envelopes/{id}/documents/{documentId}: raw bytes, or the combined, certificate or archive file."""
    envelope = envelope_for(caller, envelope_id)
    certificate_param = request.GET.get("certificate", "").lower()
    if document_id == "combined":
        attach = caller.account.settings.get("attachCompletedEnvelope", "false") == "true"
        with_certificate = certificate_param == "true" or (attach and certificate_param != "false")
        return _file_response(combined_pdf(envelope, with_certificate), _pdf_name(envelope.email_subject or "combined"),
                              "combined")
    if document_id == "certificate":
        return _file_response(certificate_pdf(envelope), "Summary.pdf", "certificate")
    if document_id == "archive":
        files = [(_pdf_name(d.name), document_pdf(d)) for d in envelope.documents.order_by("order", "pk")]
        files.append(("Summary.pdf", certificate_pdf(envelope)))
        return _file_response(pdf.zip_archive(files), f"{envelope.envelope_id}.zip", "archive", "application/zip")
    found = envelope.documents.filter(document_id=document_id).first()
    if found is None:
        raise ApiError("DOCUMENT_DOES_NOT_EXIST", "The document specified was not found.")
    return _file_response(document_pdf(found), _pdf_name(found.name), found.document_id)
