"""`multipart/form-data` envelope creation, as DocuSign documents it: the JSON definition, then one part per document.

The first part is the envelopeDefinition (`Content-Type: application/json`); each following part is a document's
bytes with `Content-Disposition: file; filename="NDA.pdf"; documentid=1`, matched to the definition's
`documents[]` by documentId, which then need no `documentBase64`. Django's form parser needs a `name` on every
part, which DocuSign's parts do not have, so the body is read with the standard library's MIME parser.
Reference: https://developers.docusign.com/docs/esign-rest-api/esign101/concepts/documents/ ("Sending documents
as multipart form parts"); https://www.docusign.com/blog/dsdev-sending-envelopes-with-multipart-form-data (UNVERIFIED
address).
"""

from __future__ import annotations

import base64
import json
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import Any

from django.http import HttpRequest

from .api import ApiError

BODY_ERROR = "The request body is missing or improperly formatted."


def _payload(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _disposition_param(part: Message, name: str) -> str:
    value = part.get_param(name, header="content-disposition")
    if isinstance(value, tuple):  # RFC 2231 form: (charset, language, value)
        value = value[2]
    return str(value or "").strip()


def read_definition(request: HttpRequest, cap: int) -> dict[str, Any]:
    """The envelopeDefinition of a multipart request, each document's bytes set as its documentBase64."""
    raw = request.read(cap + 1)
    if len(raw) > cap:
        raise ApiError("INVALID_REQUEST_BODY", f"The request exceeds the maximum size of {cap} bytes.")
    header = request.META.get("CONTENT_TYPE", "").encode("latin-1", errors="replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(b"Content-Type: " + header + b"\r\n\r\n" + raw)
    parts = list(message.iter_parts()) if message.is_multipart() else []
    if not parts:
        raise ApiError("INVALID_MULTI_PART_REQUEST",  # UNVERIFIED code: the sandbox's own wording
                       "A multipart request needs the envelope definition as its first part.")
    try:
        definition = json.loads(_payload(parts[0]) or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError("INVALID_REQUEST_BODY", f"{BODY_ERROR} The first part must be the JSON envelope definition.") from exc
    if not isinstance(definition, dict):
        raise ApiError("INVALID_REQUEST_BODY", BODY_ERROR)
    files: dict[str, bytes] = {}
    for part in parts[1:]:
        document_id = _disposition_param(part, "documentid")
        if not document_id:
            raise ApiError("INVALID_MULTI_PART_REQUEST",  # UNVERIFIED code
                           "Each document part needs a 'documentid' in its Content-Disposition.")
        files[document_id] = _payload(part)
    documents = definition.get("documents") or []
    if not isinstance(documents, list) or not all(isinstance(d, dict) for d in documents):
        raise ApiError("INVALID_REQUEST_BODY", BODY_ERROR)
    for document in documents:
        document_id = str(document.get("documentId") or "").strip()
        if document_id in files:
            document["documentBase64"] = base64.b64encode(files.pop(document_id)).decode()
        elif not document.get("documentBase64"):
            raise ApiError("INVALID_MULTI_PART_REQUEST",  # UNVERIFIED code
                           f"Document {document_id} has neither documentBase64 nor a part with documentid={document_id}.")
    if files:
        raise ApiError("INVALID_MULTI_PART_REQUEST",  # UNVERIFIED code
                       f"The part with documentid={', '.join(files)} names no document of the envelope definition.")
    return definition
