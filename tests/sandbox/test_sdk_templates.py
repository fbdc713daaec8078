"""DocuSign's official Python SDK (docusign_esign) drives the sandbox's templates, custom fields, workflow,
multipart creation, document conversion and account information over TLS, as an ISV's code would."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from docusign_esign import (
    AccountsApi,
    CarbonCopy,
    CompositeTemplate,
    CustomFields,
    Document,
    Envelope,
    EnvelopeDefinition,
    EnvelopesApi,
    EnvelopeTemplate,
    InlineTemplate,
    Recipients,
    RecipientViewRequest,
    ServerTemplate,
    Signer,
    SignHere,
    Tabs,
    TemplateRole,
    TemplatesApi,
    Text,
    TextCustomField,
    Workflow,
    WorkflowStep,
)
from docusign_esign.client.api_exception import ApiException

from tests.sandbox.rest_support import SIMPLE_PDF, Browser, pdf_text
from tests.sandbox_tls import sdk_client_fixture, tls_sandbox_fixture  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)
RETURN_URL = "https://portal.example/signed"


@pytest.fixture
def api(sdk_client, tls_sandbox):
    """The SDK client with the sender's JWT token, on the account's REST base; and the account id."""
    user = tls_sandbox.user("sender")
    token = sdk_client.request_jwt_user_token(
        client_id=tls_sandbox.seed["integration_key"], user_id=user["user_id"], oauth_host_name=tls_sandbox.oauth_host,
        private_key_bytes=Path(tls_sandbox.seed["private_key_path"]).read_bytes(), expires_in=3600,
        scopes=["signature", "impersonation"])
    # As DocuSign's examples do: the REST calls go to the account's own base_uri from userinfo (docs/sandbox.md "Sites").
    account = next(a for a in sdk_client.get_user_info(token.access_token).accounts
                   if a.account_id == user["accounts"][0])
    sdk_client.host = f"{account.base_uri}/restapi"
    sdk_client.set_default_header("Authorization", f"Bearer {token.access_token}")
    return sdk_client, account.account_id


def _template(client, account_id: str) -> str:
    template = EnvelopeTemplate(
        name="Client NDA", email_subject="Please sign the NDA",
        documents=[Document(document_id="1", name="NDA.html", file_extension="html",
                            document_base64=base64.b64encode(b"<h1>Mutual NDA</h1><p>Between us.</p>").decode())],
        recipients=Recipients(signers=[Signer(
            recipient_id="1", role_name="Client", routing_order="1",
            tabs=Tabs(sign_here_tabs=[SignHere(anchor_string="/sn1/")],
                      text_tabs=[Text(tab_label="company", anchor_string="/co/")]))]))
    return TemplatesApi(client).create_template(account_id, envelope_template=template).template_id


def _sign(tls_sandbox, client, account_id: str, envelope_id: str, signer: tuple[str, str, str]) -> None:
    name, email, client_user_id = signer
    view = EnvelopesApi(client).create_recipient_view(account_id, envelope_id, recipient_view_request=RecipientViewRequest(
        return_url=RETURN_URL, authentication_method="None", user_name=name, email=email, client_user_id=client_user_id))
    browser = Browser()
    browser.session.verify = tls_sandbox.ca_cert
    browser.session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment outranks the test certificate
    browser.session.headers["Referer"] = view.url  # Django's CSRF check wants one over HTTPS, as a browser sends
    browser.open(view.url)
    assert browser.press("sign").headers["Location"].startswith(f"{RETURN_URL}?event=signing_complete")


def test_the_sdk_makes_a_template_sends_from_it_with_prefilled_tabs_and_signs_it_embedded(api, tls_sandbox):
    client, account_id = api
    template_id = _template(client, account_id)
    templates = TemplatesApi(client)
    assert [t.name for t in templates.list_templates(account_id).envelope_templates] == ["Client NDA"]
    assert templates.get(account_id, template_id).recipients.signers[0].role_name == "Client"

    envelopes = EnvelopesApi(client)
    summary = envelopes.create_envelope(account_id, envelope_definition=EnvelopeDefinition(
        template_id=template_id, status="sent",
        template_roles=[TemplateRole(role_name="Client", name="Ana Signer", email="ana@client.example",
                                     client_user_id="client-7",
                                     tabs=Tabs(text_tabs=[Text(tab_label="company", value="Initech")]))]))

    envelope = envelopes.get_envelope(account_id, summary.envelope_id, include="recipients")
    [signer] = envelope.recipients.signers
    assert signer.tabs.text_tabs[0].value == "Initech"
    assert "Mutual NDA" in pdf_text(client.call_api(
        f"/v2.1/accounts/{account_id}/envelopes/{summary.envelope_id}/documents/1", "GET", auth_settings=[],
        _preload_content=False, _return_http_data_only=True).data)  # the HTML document converted to PDF
    _sign(tls_sandbox, client, account_id, summary.envelope_id, ("Ana Signer", "ana@client.example", "client-7"))
    assert envelopes.get_envelope(account_id, summary.envelope_id).status == "completed"


def test_the_sdk_filters_list_status_changes_by_custom_field(api):
    client, account_id = api
    envelopes = EnvelopesApi(client)

    def create(reference: str) -> str:
        return envelopes.create_envelope(account_id, envelope_definition=EnvelopeDefinition(
            email_subject="Order form", status="created",
            documents=[Document(document_id="1", name="Order.txt", file_extension="txt",
                                document_base64=base64.b64encode(b"Order form").decode())],
            recipients=Recipients(signers=[Signer(recipient_id="1", name="Ana", email="ana@client.example")]),
            custom_fields=CustomFields(text_custom_fields=[TextCustomField(name="ClientRef", value=reference)]),
        )).envelope_id

    wanted, _other = create("ACME-42"), create("ACME-43")
    since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")

    found = envelopes.list_status_changes(account_id, from_date=since, custom_field="ClientRef=ACME-42",
                                          include="custom_fields")

    assert [e.envelope_id for e in found.envelopes] == [wanted]
    assert found.envelopes[0].custom_fields.text_custom_fields[0].value == "ACME-42"


def test_the_sdk_pauses_a_workflow_and_resumes_it(api, tls_sandbox):
    client, account_id = api
    envelopes = EnvelopesApi(client)
    signers = [Signer(recipient_id=str(n), routing_order=str(n), name=name, email=email, client_user_id=f"c-{n}")
               for n, name, email in ((1, "Ana", "ana@client.example"), (2, "Bo", "bo@client.example"))]
    envelope_id = envelopes.create_envelope(account_id, envelope_definition=EnvelopeDefinition(
        email_subject="Two steps", status="sent", recipients=Recipients(signers=signers),
        documents=[Document(document_id="1", name="A.pdf", document_base64=base64.b64encode(SIMPLE_PDF).decode())],
        workflow=Workflow(workflow_steps=[WorkflowStep(action="pause_before", trigger_on_item="routing_order",
                                                       item_id="2")]))).envelope_id
    _sign(tls_sandbox, client, account_id, envelope_id, ("Ana", "ana@client.example", "c-1"))

    assert envelopes.get_envelope_workflow_definition(account_id, envelope_id).workflow_status == "paused"
    assert [s.status for s in envelopes.list_recipients(account_id, envelope_id).signers] == ["completed", "created"]

    envelopes.update(account_id, envelope_id, envelope=Envelope(workflow=Workflow(workflow_status="in_progress")),
                     resend_envelope="true")

    assert envelopes.get_envelope_workflow_definition(account_id, envelope_id).workflow_status == "in_progress"
    _sign(tls_sandbox, client, account_id, envelope_id, ("Bo", "bo@client.example", "c-2"))
    assert envelopes.get_envelope(account_id, envelope_id).status == "completed"


def test_the_sdk_client_posts_a_multipart_envelope(api):
    """The SDK has no multipart method for envelopes; its ApiClient sends the body DocuSign documents."""
    import json

    client, account_id = api
    boundary = uuid.uuid4().hex
    definition = {"emailSubject": "Multipart", "status": "sent",
                  "documents": [{"documentId": "1", "name": "A.pdf", "fileExtension": "pdf"}],
                  "recipients": {"signers": [{"recipientId": "1", "name": "Ana", "email": "ana@client.example"}]}}
    body = (f"--{boundary}\r\nContent-Type: application/json\r\nContent-Disposition: form-data\r\n\r\n"
            f"{json.dumps(definition)}\r\n--{boundary}\r\nContent-Type: application/pdf\r\n"
            f'Content-Disposition: file; filename="A.pdf"; documentid=1\r\n\r\n{SIMPLE_PDF.decode()}\r\n--{boundary}--\r\n')

    summary = client.call_api(f"/v2.1/accounts/{account_id}/envelopes", "POST", auth_settings=[], body=body,
                              header_params={"Content-Type": f"multipart/form-data; boundary={boundary}",
                                             "Accept": "application/json"},
                              response_type="EnvelopeSummary", _return_http_data_only=True)

    assert summary.status == "sent"
    document = client.call_api(f"/v2.1/accounts/{account_id}/envelopes/{summary.envelope_id}/documents/1", "GET",
                               auth_settings=[], _preload_content=False, _return_http_data_only=True)
    assert document.data == SIMPLE_PDF


def test_the_sdk_reads_account_information_and_sees_template_id_invalid(api):
    client, account_id = api

    info = AccountsApi(client).get_account_information(account_id)

    assert info.account_id_guid == account_id
    assert info.account_name == "Initech"
    assert info.plan_name == "DEVCENTER_DEMO_APRIL2013"
    assert info.status21_cfr_part11 == "false"
    try:
        TemplatesApi(client).get(account_id, str(uuid.uuid4()))
    except ApiException as exc:  # not pytest.raises: a kept traceback holds the SDK's socket open
        assert exc.status == 400
        assert json_error(exc.body) == "TEMPLATE_ID_INVALID"
    else:
        pytest.fail("an unknown template was found")


def json_error(body: bytes | str) -> str:
    import json

    return json.loads(body)["errorCode"]


def test_the_sdk_sends_composite_templates_as_docusigns_example_does(api):
    """A server template overlaid with an inline template's people, plus a document from the request (eg013's shape)."""
    client, account_id = api
    template_id = _template(client, account_id)
    signer = Signer(recipient_id="1", role_name="Client", name="Ana Signer", email="ana@client.example",
                    client_user_id="client-7")
    cc = CarbonCopy(recipient_id="2", routing_order="2", name="Lee Gal", email="legal@isv.example")
    added = Document(document_id="1", name="Appendix.txt", file_extension="txt",
                     document_base64=base64.b64encode(b"Appendix A: fees").decode())
    definition = EnvelopeDefinition(status="sent", composite_templates=[
        CompositeTemplate(composite_template_id="1", server_templates=[ServerTemplate(sequence="1", template_id=template_id)],
                          inline_templates=[InlineTemplate(sequence="2", recipients=Recipients(signers=[signer],
                                                                                                carbon_copies=[cc]))]),
        CompositeTemplate(composite_template_id="2", document=added,
                          inline_templates=[InlineTemplate(sequence="1", recipients=Recipients(signers=[signer]))])])

    envelope_id = EnvelopesApi(client).create_envelope(account_id, envelope_definition=definition).envelope_id

    documents = EnvelopesApi(client).list_documents(account_id, envelope_id).envelope_documents
    assert [(d.document_id, d.name) for d in documents] == [("1", "NDA.html"), ("2", "Appendix.txt"),
                                                            ("certificate", "Summary")]
    recipients = EnvelopesApi(client).list_recipients(account_id, envelope_id)
    assert [(s.name, s.role_name) for s in recipients.signers] == [("Ana Signer", "Client")]
    assert recipients.carbon_copies[0].email == "legal@isv.example"


def test_the_sdk_corrects_a_recipient_and_resends(api, tls_sandbox):
    client, account_id = api
    envelopes = EnvelopesApi(client)
    envelope_id = envelopes.create_envelope(account_id, envelope_definition=EnvelopeDefinition(
        email_subject="Correct me", status="sent",
        documents=[Document(document_id="1", name="A.pdf", document_base64=base64.b64encode(SIMPLE_PDF).decode())],
        recipients=Recipients(signers=[Signer(recipient_id="1", name="Ana", email="ana@old.example",
                                              client_user_id="c-1")]))).envelope_id

    summary = envelopes.update_recipients(account_id, envelope_id, resend_envelope="true", recipients=Recipients(
        signers=[Signer(recipient_id="1", name="Ana Lopez", email="ana@new.example")]))
    envelopes.update(account_id, envelope_id, resend_envelope="true", envelope=Envelope())

    assert summary.recipient_update_results[0].recipient_id == "1"
    _sign(tls_sandbox, client, account_id, envelope_id, ("Ana Lopez", "ana@new.example", "c-1"))
    assert envelopes.get_envelope(account_id, envelope_id).status == "completed"
