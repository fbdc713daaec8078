"""The sandbox's envelopes API over loopback HTTP: create, get, recipients, send a draft, void."""

from __future__ import annotations

import base64

import pytest

from tests.sandbox.rest_support import docx_bytes, envelope_definition, serve_rest_sandbox


@pytest.fixture
def rest(transactional_db):
    with serve_rest_sandbox() as sandbox:
        yield sandbox


def test_creating_an_envelope_saves_a_draft_and_answers_201_with_its_summary(rest):
    response = rest.call("POST", "/envelopes", json=envelope_definition())

    assert response.status_code == 201
    summary = response.json()
    assert set(summary) == {"envelopeId", "status", "statusDateTime", "uri"}
    assert summary["status"] == "created"
    assert summary["uri"] == f"/envelopes/{summary['envelopeId']}"
    assert summary["statusDateTime"].endswith("Z")


def test_creating_with_status_sent_sends_at_once(rest):
    summary = rest.create_envelope(status="sent")

    envelope = rest.call("GET", f"/envelopes/{summary['envelopeId']}?include=recipients").json()
    assert envelope["status"] == "sent"
    assert "sentDateTime" in envelope
    signer = envelope["recipients"]["signers"][0]
    assert signer["status"] == "sent"
    # The carbon copy has routing order 2: not reached until the signer has signed.
    assert envelope["recipients"]["carbonCopies"][0]["status"] == "created"


def test_get_envelope_returns_the_key_fields_as_strings_and_uris(rest):
    envelope_id = rest.create_envelope(transactionId="tx-1")["envelopeId"]

    envelope = rest.call("GET", f"/envelopes/{envelope_id}?include=recipients,documents").json()

    assert envelope["envelopeId"] == envelope_id
    assert envelope["emailSubject"] == "Please sign the NDA"
    assert envelope["transactionId"] == "tx-1"
    assert envelope["documentsCombinedUri"] == f"/envelopes/{envelope_id}/documents/combined"
    assert envelope["certificateUri"] == f"/envelopes/{envelope_id}/documents/certificate"
    assert envelope["sender"]["userId"] == rest.sender_user_id
    assert envelope["recipients"]["recipientCount"] == "2"
    assert envelope["recipients"]["signers"][0]["routingOrder"] == "1"
    assert envelope["recipients"]["signers"][0]["clientUserId"] == "client-7"
    assert [d["documentId"] for d in envelope["envelopeDocuments"]] == ["1", "certificate"]
    assert "sentDateTime" not in envelope  # a draft: DocuSign leaves unset dates out


def test_recipients_endpoint_lists_every_group_and_the_current_routing_order(rest):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]

    recipients = rest.call("GET", f"/envelopes/{envelope_id}/recipients").json()

    assert recipients["currentRoutingOrder"] == "1"
    assert recipients["signers"][0]["email"] == "ana@client.example"
    assert recipients["carbonCopies"][0]["name"] == "Carl Copy"
    assert recipients["inPersonSigners"] == []


def test_an_unknown_envelope_is_envelope_does_not_exist_with_400(rest):
    response = rest.call("GET", "/envelopes/00000000-0000-0000-0000-000000000000")

    assert response.status_code == 400
    assert response.json()["errorCode"] == "ENVELOPE_DOES_NOT_EXIST"


def test_another_accounts_envelope_is_indistinguishable_from_an_unknown_one(rest):
    envelope_id = rest.create_envelope()["envelopeId"]

    response = rest.call("GET", f"/envelopes/{envelope_id}", token=rest.other_token, account_id=rest.other_account_id)

    assert response.status_code == 400
    assert response.json()["errorCode"] == "ENVELOPE_DOES_NOT_EXIST"


def test_a_bad_bearer_token_is_401_authorization_invalid_token(rest):
    response = rest.call("GET", "/envelopes?from_date=2020-01-01", token="not-a-token")

    assert response.status_code == 401
    assert response.json()["errorCode"] == "AUTHORIZATION_INVALID_TOKEN"


def test_invalid_base64_is_refused_as_an_invalid_request_body(rest):
    body = envelope_definition()
    body["documents"][0]["documentBase64"] = "this is not base64!"

    response = rest.call("POST", "/envelopes", json=body)

    assert response.status_code == 400
    assert response.json()["errorCode"] == "INVALID_REQUEST_BODY"


def test_a_docx_is_accepted_and_other_file_types_are_refused(rest):
    docx = {"documentBase64": base64.b64encode(docx_bytes("Terms")).decode(), "name": "Terms.docx",
            "fileExtension": "docx", "documentId": "2"}
    assert rest.call("POST", "/envelopes", json=envelope_definition(documents=[docx])).status_code == 201

    exe = {**docx, "name": "tool.exe", "fileExtension": "exe"}
    response = rest.call("POST", "/envelopes", json=envelope_definition(documents=[exe]))
    assert response.status_code == 400
    assert response.json()["errorCode"] == "FORMAT_CONVERSION_ERROR"


def test_a_document_over_25_mb_is_refused(rest):
    big = b"%PDF-1.4\n" + b"0" * (25 * 1024 * 1024)
    document = {"documentBase64": base64.b64encode(big).decode(), "name": "Big.pdf", "documentId": "1"}

    response = rest.call("POST", "/envelopes", json=envelope_definition(documents=[document]))

    assert response.status_code == 400
    assert "25 MB" in response.json()["message"]


def test_more_than_100_recipients_are_refused(rest):
    signers = [{"email": f"s{n}@client.example", "name": f"Signer {n}", "recipientId": str(n)} for n in range(1, 102)]

    response = rest.call("POST", "/envelopes", json=envelope_definition(recipients={"signers": signers}))

    assert response.status_code == 400
    assert response.json()["errorCode"] == "MAX_RECIPIENTS_EXCEEDED"


def test_a_signer_without_an_email_is_refused(rest):
    body = envelope_definition()
    del body["recipients"]["signers"][0]["email"]

    response = rest.call("POST", "/envelopes", json=body)

    assert response.json()["errorCode"] == "INVALID_EMAIL_ADDRESS_FOR_RECIPIENT"


def test_only_created_or_sent_are_valid_statuses_on_create(rest):
    response = rest.call("POST", "/envelopes", json=envelope_definition(status="completed"))

    assert response.status_code == 400
    assert response.json()["errorCode"] == "INVALID_REQUEST_PARAMETER"


def test_sending_without_a_subject_is_incomplete_and_creates_nothing(rest):
    response = rest.call("POST", "/envelopes", json=envelope_definition(status="sent", emailSubject=""))

    assert response.status_code == 400
    assert response.json()["errorCode"] == "ENVELOPE_IS_INCOMPLETE"
    listed = rest.call("GET", "/envelopes?from_date=2000-01-01&status=any").json()
    assert listed["totalSetSize"] == "0"


def test_put_status_sent_sends_a_draft(rest):
    envelope_id = rest.create_envelope()["envelopeId"]

    response = rest.call("PUT", f"/envelopes/{envelope_id}", json={"status": "sent"})

    assert response.status_code == 200
    assert rest.call("GET", f"/envelopes/{envelope_id}").json()["status"] == "sent"


def test_put_status_sent_on_a_sent_envelope_is_refused(rest):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]

    response = rest.call("PUT", f"/envelopes/{envelope_id}", json={"status": "sent"})

    assert response.status_code == 400
    assert "draft" in response.json()["message"]


def test_voiding_without_a_reason_gives_docusigns_exact_error(rest):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]

    response = rest.call("PUT", f"/envelopes/{envelope_id}", json={"status": "voided"})

    assert response.status_code == 400
    assert response.json() == {
        "errorCode": "INVALID_REQUEST_PARAMETER",
        "message": "The request contained at least one invalid parameter. "
                   "Value for 'voidedReason' must be specified when voiding an envelope.",
    }


def test_voiding_a_sent_envelope_records_the_reason(rest):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]

    response = rest.call("PUT", f"/envelopes/{envelope_id}", json={"status": "voided", "voidedReason": "Wrong NDA"})

    assert response.status_code == 200
    envelope = rest.call("GET", f"/envelopes/{envelope_id}").json()
    assert (envelope["status"], envelope["voidedReason"]) == ("voided", "Wrong NDA")
    assert "voidedDateTime" in envelope


def test_a_draft_cannot_be_voided(rest):
    envelope_id = rest.create_envelope()["envelopeId"]

    response = rest.call("PUT", f"/envelopes/{envelope_id}", json={"status": "voided", "voidedReason": "x"})

    assert response.status_code == 400
    assert rest.call("GET", f"/envelopes/{envelope_id}").json()["status"] == "created"
