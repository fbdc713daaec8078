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
        {"roleName": "Client", "name": "Ana Signer", "email": "ana@client.example", "clientUserId": "client-7",
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


def test_an_unknown_template_is_template_id_invalid_and_creates_nothing(rest):
    from docusign_sandbox.models import Envelope

    response = rest.call("POST", "/envelopes", json={"templateId": "00000000-0000-4000-8000-000000000000",
                                                     "status": "sent", "templateRoles": []})

    assert response.status_code == 400
    assert response.json()["errorCode"] == "TEMPLATE_ID_INVALID"
    assert not Envelope.objects.exists()


@pytest.mark.parametrize("role", [
    {"roleName": "Auditor"},  # a role the template does not have
    {"roleName": "client"},  # not identical: DocuSign's FAQ says roleName must match exactly
    {"roleName": "Client", "routingOrder": "3"},  # the FAQ: routingOrder, when given, must match too
])
def test_a_role_that_matches_no_placeholder_is_added_as_a_new_signer_as_docusign_does(rest, role):
    template_id = _create(rest)
    roles = [{**role, "name": "Extra Person", "email": "extra@x.example"},
             {"roleName": "Legal", "name": "Lee Gal", "email": "legal@isv.example"}]

    response = rest.call("POST", "/envelopes", json={"templateId": template_id, "templateRoles": roles})

    assert response.status_code == 201, response.text
    recipients = rest.call("GET", f"/envelopes/{response.json()['envelopeId']}/recipients").json()
    # The Client placeholder, unfilled, is left out; the unmatched role is a new signer with the next recipientId.
    assert [(s["name"], s["recipientId"], s["routingOrder"]) for s in recipients["signers"]] == [
        ("Extra Person", "3", role.get("routingOrder", "1"))]
    assert recipients["carbonCopies"][0]["name"] == "Lee Gal"


def test_a_role_without_an_email_that_matches_nothing_is_refused_as_a_recipient_without_one(rest):
    from docusign_sandbox.models import Envelope

    response = rest.call("POST", "/envelopes", json={"templateId": _create(rest), "templateRoles": [
        {"roleName": "Auditor", "name": "No Email"}]})

    assert response.status_code == 400
    assert response.json()["errorCode"] == "INVALID_EMAIL_ADDRESS_FOR_RECIPIENT"
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


def test_a_template_with_a_document_larger_than_the_portals_form_cap_is_accepted(rest):
    big = SIMPLE_PDF + b"%" + b"0" * (3 * 1024 * 1024)  # 3 MB: over the portal's 1 MB, under DocuSign's 34 MB
    document = {"documentId": "1", "name": "Big.pdf", "fileExtension": "pdf", "documentBase64": base64.b64encode(big).decode()}

    assert rest.call("POST", "/templates", json=template_body(documents=[document])).status_code == 201


def test_listing_templates_costs_the_same_queries_for_one_or_three(rest):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _create(rest)
    with CaptureQueriesContext(connection) as one:
        assert rest.call("GET", "/templates").json()["resultSetSize"] == "1"
    _create(rest, name="Order form")
    _create(rest, name="Lease")
    with CaptureQueriesContext(connection) as three:
        assert rest.call("GET", "/templates").json()["resultSetSize"] == "3"

    assert len(three.captured_queries) == len(one.captured_queries)


def test_updating_a_templates_roles_changes_the_envelopes_made_from_it(rest):
    template_id = _create(rest)
    roles = {"signers": [{"recipientId": "1", "roleName": "Buyer", "routingOrder": "1"}]}
    assert rest.call("PUT", f"/templates/{template_id}", json={"recipients": roles}).status_code == 200

    old_role = rest.call("POST", "/envelopes", json={"templateId": template_id, "templateRoles": [
        {"roleName": "Client", "name": "Ana", "email": "ana@client.example"}]})
    new_role = rest.call("POST", "/envelopes", json={"templateId": template_id, "templateRoles": [
        {"roleName": "Buyer", "name": "Ana", "email": "ana@client.example"}]})

    def signers(response) -> list[tuple[str, str]]:
        envelope_id = response.json()["envelopeId"]
        return [(s["roleName"], s["routingOrder"])
                for s in rest.call("GET", f"/envelopes/{envelope_id}/recipients").json()["signers"]]

    assert signers(old_role) == [("Client", "1")]  # no longer a placeholder: added as a new signer
    assert signers(new_role) == [("Buyer", "1")]
