"""Journey 9: the ISV's backend sends through the API, its end user signs embedded, the signed PDF comes back intact."""

from __future__ import annotations

import hashlib

import requests

from docusign_integration.envelopes.sync import envelopes_sweep
from tests.api.conftest import ISV_ORIGIN, document_envelope
from tests.envelopes.conftest import api_requests


def sign_in_sandbox(sandbox, envelope_id: str, recipient_id: str) -> None:
    """The sandbox's control API acts as the signer (what DocuSign's signing page does)."""
    response = requests.post(f"{sandbox.url}/_sandbox/recipients/{envelope_id}/{recipient_id}/sign", json={}, timeout=5)
    assert response.status_code == 200, response.text


def test_documents_to_embedded_signer_to_signed_pdf(sandbox, acme, acme_api):
    created = acme_api.post("envelopes", document_envelope(metadata={"order": "A-17"}))
    assert created.status_code == 201, created.content
    envelope = created.json()
    assert envelope["status"] == "sent" and envelope["metadata"] == {"order": "A-17"}
    (signer,) = envelope["recipients"]
    assert signer["embedded"] is True and "client_user_id" not in signer

    everything = r"^/(restapi|oauth)/"  # eSignature calls, and token or userinfo calls to the account server
    before = api_requests(everything).count()
    view = acme_api.post(f"envelopes/{envelope['envelope_id']}/recipients/{signer['recipient_id']}/signing_view",
                         {"end_user_id": "user-42", "return_url": f"{ISV_ORIGIN}/signed"})
    assert view.status_code == 201, view.content
    assert view.json()["url"].startswith(sandbox.url)
    assert api_requests(everything).count() - before == 1  # one DocuSign call: token cached, no userinfo

    sign_in_sandbox(sandbox, envelope["envelope_id"], signer["recipient_id"])
    envelopes_sweep(acme)
    assert acme_api.get(f"envelopes/{envelope['envelope_id']}").json()["status"] == "completed"

    combined = acme_api.get(f"envelopes/{envelope['envelope_id']}/documents/combined")
    assert combined.status_code == 200, combined.content
    content = b"".join(combined.streaming_content)
    assert content.startswith(b"%PDF")
    digest = hashlib.sha256(content).hexdigest()
    assert combined["X-Content-SHA256"] == digest and combined["ETag"] == f'"{digest}"'
    again = acme_api.get(f"envelopes/{envelope['envelope_id']}/documents/combined", HTTP_IF_NONE_MATCH=f'"{digest}"')
    assert again.status_code == 304
    certificate = acme_api.get(f"envelopes/{envelope['envelope_id']}/documents/certificate")
    assert certificate.status_code == 200
    assert hashlib.sha256(b"".join(certificate.streaming_content)).hexdigest() == certificate["X-Content-SHA256"]
