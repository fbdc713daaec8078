"""Templates: the client's DocuSign templates cached on demand, the ISV's allow-list, and the whole embedded journey
from a template with prefilled tabs (sandbox templates from branch h15a)."""

from __future__ import annotations

import base64
import hashlib

import requests

from api.models import CachedTemplate
from api.templates import template_allow
from docusign_integration.envelopes.sending import system_user_identity
from docusign_integration.envelopes.sync import envelopes_sweep
from docusign_sandbox.models import Envelope as SandboxEnvelope
from tests.api.conftest import ISV_ORIGIN
from tests.api.test_signing_flow import sign_in_sandbox
from tests.envelopes.conftest import SIMPLE_PDF, api_requests


def docusign_template(organization, name: str = "Client NDA") -> str:
    """A server template made in the organization's DocuSign account (as its sender would in DocuSign's web app)."""
    identity = system_user_identity(organization)
    body = {"name": name, "emailSubject": "Please sign the NDA",
            "documents": [{"documentId": "1", "name": "NDA.pdf", "fileExtension": "pdf",
                           "documentBase64": base64.b64encode(SIMPLE_PDF).decode()}],
            "recipients": {"signers": [{"recipientId": "1", "roleName": "Client", "routingOrder": "1",
                                        "tabs": {"textTabs": [{"tabLabel": "company", "value": ""}]}}]}}
    response = requests.post(f"{identity.ref.api_url}/templates", json=body, timeout=5,
                             headers={"Authorization": f"Bearer {identity.bearer}"})
    assert response.status_code == 201, response.text
    return response.json()["templateId"]


def allowed(organization, api, template_id: str) -> None:
    refreshed = api.post("templates/refresh")
    assert refreshed.status_code == 200, refreshed.content
    template_allow(acting_user=None, template=CachedTemplate.objects.get(organization=organization,
                                                                         template_id=template_id), allowed=True)


def test_refresh_lists_the_accounts_templates_with_roles_and_keeps_the_allow_list(sandbox, acme, acme_api):
    template_id = docusign_template(acme)
    listed = acme_api.post("templates/refresh").json()["templates"]
    assert [(t["template_id"], t["roles"], t["allowed"]) for t in listed] == [
        (template_id, [{"role_name": "Client", "recipient_id": "1"}], False)]
    template_allow(acting_user=None, template=CachedTemplate.objects.get(template_id=template_id), allowed=True)
    acme_api.post("templates/refresh")
    assert acme_api.get(f"templates/{template_id}").json()["allowed"] is True


def test_a_template_the_isv_has_not_allowed_is_refused_before_docusign(sandbox, acme, acme_api):
    template_id = docusign_template(acme)
    acme_api.post("templates/refresh")
    before = api_requests().count()
    response = acme_api.post("envelopes", {"subject": "NDA", "template_id": template_id, "recipients": [
        {"name": "Erin", "email": "erin@customer.example", "role_name": "Client", "end_user_id": "user-42"}]})
    assert response.status_code == 400 and response.json()["code"] == "template_not_allowed"
    assert response.json()["errors"][0]["field"] == "template_id"
    assert api_requests().count() == before


def test_template_with_prefilled_tabs_to_embedded_signing_to_signed_pdf(sandbox, acme, acme_api):
    template_id = docusign_template(acme)
    allowed(acme, acme_api, template_id)

    created = acme_api.post("envelopes", {"subject": "NDA for Initech", "template_id": template_id, "recipients": [
        {"name": "Erin End-User", "email": "erin@customer.example", "role_name": "Client", "end_user_id": "user-42",
         "tabs": {"company": "Initech"}}], "metadata": {"deal": "D-9"}})
    assert created.status_code == 201, created.content
    envelope = created.json()
    in_docusign = SandboxEnvelope.objects.get(envelope_id=envelope["envelope_id"])
    signer = in_docusign.recipients.get()
    assert signer.client_user_id and signer.name == "Erin End-User"
    assert signer.tabs["textTabs"][0] == {"tabLabel": "company", "value": "Initech"}  # prefilled at DocuSign

    view = acme_api.post(f"envelopes/{envelope['envelope_id']}/recipients/1/signing_view",
                         {"end_user_id": "user-42", "return_url": f"{ISV_ORIGIN}/done"})
    assert view.status_code == 201, view.content
    sign_in_sandbox(sandbox, envelope["envelope_id"], "1")
    envelopes_sweep(acme)
    combined = acme_api.get(f"envelopes/{envelope['envelope_id']}/documents/combined")
    assert combined.status_code == 200, combined.content
    assert hashlib.sha256(b"".join(combined.streaming_content)).hexdigest() == combined["X-Content-SHA256"]
