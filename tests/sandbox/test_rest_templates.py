"""Server templates over loopback HTTP: CRUD, envelopes from templateId + templateRoles, and composite templates."""

from __future__ import annotations

import base64

import pytest

from tests.sandbox.rest_support import SIMPLE_PDF, pdf_text, serve_rest_sandbox


@pytest.fixture
def rest(transactional_db):
    with serve_rest_sandbox() as sandbox:
        yield sandbox


def template_body(**overrides) -> dict:
    body = {
        "name": "Client NDA", "description": "Mutual NDA", "emailSubject": "Please sign the NDA",
        "documents": [{"documentId": "1", "name": "NDA.html", "fileExtension": "html",
                       "documentBase64": base64.b64encode(b"<p>Mutual NDA</p>").decode()}],
        "recipients": {
            "signers": [{"recipientId": "1", "roleName": "Client", "routingOrder": "1", "tabs": {
                "signHereTabs": [{"anchorString": "/sn1/"}],
                "textTabs": [{"tabLabel": "company", "value": "", "anchorString": "/co/"}]}}],
            "carbonCopies": [{"recipientId": "2", "roleName": "Legal", "routingOrder": "2"}]},
        "customFields": {"textCustomFields": [{"name": "Product", "value": "NDA"}]},
    }
    body.update(overrides)
    return body


def _create(rest, **overrides) -> str:
    response = rest.call("POST", "/templates", json=template_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()["templateId"]


def test_a_template_is_created_listed_read_updated_and_deleted(rest):
    response = rest.call("POST", "/templates", json=template_body())
    assert response.status_code == 201
    template_id = response.json()["templateId"]
    assert response.json() == {"templateId": template_id, "name": "Client NDA", "uri": f"/templates/{template_id}"}

    listed = rest.call("GET", "/templates?search_text=nda").json()
    assert listed["totalSetSize"] == "1"
    assert [t["templateId"] for t in listed["envelopeTemplates"]] == [template_id]
    got = rest.call("GET", f"/templates/{template_id}").json()
    assert got["recipients"]["signers"][0]["roleName"] == "Client"
    assert got["documents"] == [{"documentId": "1", "name": "NDA.html", "order": "1",
                                 "uri": f"/templates/{template_id}/documents/1"}]
    assert "documentBase64" not in str(got)

    assert rest.call("PUT", f"/templates/{template_id}", json={"name": "Client NDA v2"}).status_code == 200
    assert rest.call("GET", f"/templates/{template_id}").json()["name"] == "Client NDA v2"
    assert rest.call("GET", f"/templates/{template_id}").json()["recipients"]["recipientCount"] == "2"

    assert rest.call("DELETE", f"/templates/{template_id}").status_code == 200
    gone = rest.call("GET", f"/templates/{template_id}")
    assert gone.status_code == 400 and gone.json()["errorCode"] == "TEMPLATE_ID_INVALID"


def test_another_accounts_template_is_template_id_invalid(rest):
    template_id = _create(rest)

    response = rest.call("GET", f"/templates/{template_id}", token=rest.other_token, account_id=rest.other_account_id)

    assert response.status_code == 400
    assert response.json()["errorCode"] == "TEMPLATE_ID_INVALID"


def test_an_envelope_from_a_template_fills_roles_and_prefills_tabs(rest):
    template_id = _create(rest)
    body = {"templateId": template_id, "status": "sent", "templateRoles": [
        {"roleName": "client", "name": "Ana Signer", "email": "ana@client.example", "clientUserId": "client-7",
         "tabs": {"textTabs": [{"tabLabel": "company", "value": "Initech"}]}},
        {"roleName": "Legal", "name": "Lee Gal", "email": "legal@isv.example"}]}

    response = rest.call("POST", "/envelopes", json=body)

    assert response.status_code == 201, response.text
    envelope_id = response.json()["envelopeId"]
    envelope = rest.call("GET", f"/envelopes/{envelope_id}?include=recipients,custom_fields").json()
    assert envelope["emailSubject"] == "Please sign the NDA"
    [signer] = envelope["recipients"]["signers"]
    assert (signer["name"], signer["email"], signer["clientUserId"], signer["roleName"]) == (
        "Ana Signer", "ana@client.example", "client-7", "Client")
    assert signer["tabs"]["textTabs"][0]["value"] == "Initech"
    assert signer["tabs"]["signHereTabs"] == [{"anchorString": "/sn1/"}]
    assert envelope["recipients"]["carbonCopies"][0]["email"] == "legal@isv.example"
    assert envelope["customFields"]["textCustomFields"][0]["name"] == "Product"
    assert "Mutual NDA" in pdf_text(rest.call("GET", f"/envelopes/{envelope_id}/documents/1").content)


@pytest.mark.parametrize(("body", "code"), [
    ({"templateId": "00000000-0000-4000-8000-000000000000", "templateRoles": []}, "TEMPLATE_ID_INVALID"),
    ({"templateRoles": [{"roleName": "Auditor", "name": "A", "email": "a@x.example"}]}, "TEMPLATE_ROLE_NOT_FOUND"),
])
def test_an_unknown_template_or_role_is_refused_and_creates_nothing(rest, body, code):
    from docusign_sandbox.models import Envelope

    body = {"templateId": _create(rest), "status": "sent", **body}

    response = rest.call("POST", "/envelopes", json=body)

    assert response.status_code == 400
    assert response.json()["errorCode"] == code
    assert not Envelope.objects.exists()


def test_composite_templates_join_a_server_template_an_inline_template_and_a_document_from_the_request(rest):
    template_id = _create(rest)
    signer = {"recipientId": "1", "roleName": "Client", "name": "Ana Signer", "email": "ana@client.example",
              "clientUserId": "client-7"}
    extra = {"documentId": "1", "name": "Fees.pdf", "fileExtension": "pdf",
             "documentBase64": base64.b64encode(SIMPLE_PDF).decode()}
    body = {"status": "sent", "compositeTemplates": [
        {"compositeTemplateId": "1", "serverTemplates": [{"sequence": "1", "templateId": template_id}],
         "inlineTemplates": [{"sequence": "2", "recipients": {
             "signers": [signer],
             "carbonCopies": [{"recipientId": "2", "roleName": "Legal", "name": "Lee Gal", "email": "l@isv.example"}]}}]},
        {"compositeTemplateId": "2", "document": extra,
         "inlineTemplates": [{"sequence": "1", "recipients": {"signers": [
             {**signer, "tabs": {"signHereTabs": [{"anchorString": "/fees/"}]}}]}}]},
    ]}

    response = rest.call("POST", "/envelopes", json=body)

    assert response.status_code == 201, response.text
    envelope_id = response.json()["envelopeId"]
    envelope = rest.call("GET", f"/envelopes/{envelope_id}?include=recipients,documents").json()
    documents = [(d["documentId"], d["name"]) for d in envelope["envelopeDocuments"]]
    assert documents == [("1", "NDA.html"), ("2", "Fees.pdf"), ("certificate", "Summary")]
    [one_signer] = envelope["recipients"]["signers"]  # the same recipientId in both composites: one signer
    assert one_signer["email"] == "ana@client.example"
    assert [t["anchorString"] for t in one_signer["tabs"]["signHereTabs"]] == ["/sn1/", "/fees/"]
    assert envelope["recipients"]["carbonCopies"][0]["name"] == "Lee Gal"
    assert rest.call("GET", f"/envelopes/{envelope_id}/documents/2").content == SIMPLE_PDF
