"""Nothing unknown passes silently: unrouted paths are DocuSign's JSON 404, unmodelled fields a named 400."""

from __future__ import annotations

import pytest
import requests
from docusign_esign.models import CarbonCopy, Document, EnvelopeDefinition, RecipientViewRequest, Signer

from docusign_sandbox import refusals
from tests.sandbox.rest_support import envelope_definition, recipient_view_request, serve_rest_sandbox


@pytest.fixture
def rest(transactional_db):
    with serve_rest_sandbox() as sandbox:
        yield sandbox


@pytest.mark.parametrize(("model", "modelled"), [
    (EnvelopeDefinition, refusals.MODELLED_ENVELOPE_FIELDS | refusals.REFUSED_ENVELOPE_FIELDS),
    (Signer, refusals.MODELLED_RECIPIENT_FIELDS | refusals.REFUSED_RECIPIENT_FIELDS | {"status", "sentDateTime"}),
    (CarbonCopy, refusals.MODELLED_RECIPIENT_FIELDS | refusals.REFUSED_RECIPIENT_FIELDS | {"status", "sentDateTime"}),
    (Document, refusals.MODELLED_DOCUMENT_FIELDS | refusals.REFUSED_DOCUMENT_FIELDS),
    (RecipientViewRequest, refusals.REFUSED_RECIPIENT_VIEW_FIELDS | refusals.MODELLED_RECIPIENT_VIEW_FIELDS),
])
def test_every_property_of_docusigns_sdk_models_is_decided(model, modelled):
    decided = modelled | refusals.READ_ONLY_FIELDS | refusals.MODELLED_ELSEWHERE

    undecided = set(model.attribute_map.values()) - decided

    assert not undecided, undecided


@pytest.mark.parametrize("path", ["/restapi/v2.1/accounts/{account}/no_such_thing", "/restapi/v9/anything",
                                  "/restapi", "/oauth/no-such-endpoint",
                                  "/restapi/v2.1/accounts/{account}/envelopes/x/no_such_part"])
def test_an_unrouted_path_is_docusigns_json_404_not_an_html_page(rest, path):
    response = requests.get(rest.url + path.format(account=rest.account_id),
                            headers={"Authorization": f"Bearer {rest.sender_token}"}, timeout=10)

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"errorCode": "RESOURCE_NOT_FOUND",
                               "message": "The URL provided does not resolve to a resource."}


@pytest.mark.parametrize(("overrides", "named"), [
    ({"notification": {"useAccountDefaults": "false", "reminders": {"reminderEnabled": "true"}}}, "notification"),
    ({"eventNotification": {"url": "https://listener.example/hook"}}, "eventNotification"),
    ({"recipients": {"signers": [{"email": "a@x.example", "name": "A", "recipientId": "1", "accessCode": "1234"}]}},
     "recipients.signers[].accessCode"),
    ({"recipients": {"signers": [{"email": "a@x.example", "name": "A", "recipientId": "1",
                                  "identityVerification": {"workflowId": "c368e411"}}]}},
     "recipients.signers[].identityVerification"),
    ({"recipients": {"inPersonSigners": [{"hostName": "H", "recipientId": "1"}]}}, "recipients.inPersonSigners"),
    ({"documents": [{"documentId": "1", "name": "a.pdf", "remoteUrl": "https://files.example/a.pdf"}]},
     "documents[].remoteUrl"),
])
def test_an_unmodelled_field_is_refused_naming_it_and_nothing_is_created(rest, overrides, named):
    response = rest.call("POST", "/envelopes", json=envelope_definition(**overrides))

    assert response.status_code == 400
    assert response.json()["errorCode"] == "UNMODELLED_BY_SANDBOX"
    assert f"'{named}'" in response.json()["message"]
    assert rest.call("GET", "/envelopes", params={"from_date": "2000-01-01"}).json()["totalSetSize"] == "0"


def test_an_unmodelled_field_set_to_its_off_value_asks_for_nothing_and_passes(rest):
    response = rest.call("POST", "/envelopes", json=envelope_definition(enableWetSign="false", allowMarkup=False,
                                                                        envelopeId="ignored-as-docusign-does"))

    assert response.status_code == 201, response.text


def test_status_is_read_case_insensitively_as_docusign_does(rest):
    created = rest.create_envelope(status="Sent")

    assert created["status"] == "sent"
    voided = rest.call("PUT", f"/envelopes/{created['envelopeId']}", json={"status": "VOIDED", "voidedReason": "x"})
    assert voided.status_code == 200
    assert rest.call("GET", f"/envelopes/{created['envelopeId']}").json()["status"] == "voided"


def test_an_envelope_update_beyond_its_status_is_refused_and_changes_nothing(rest):
    created = rest.create_envelope()

    response = rest.call("PUT", f"/envelopes/{created['envelopeId']}", json={"status": "sent",
                                                                            "emailSubject": "Changed"})

    assert (response.status_code, response.json()["errorCode"]) == (400, "UNMODELLED_BY_SANDBOX")
    assert "'emailSubject'" in response.json()["message"]
    after = rest.call("GET", f"/envelopes/{created['envelopeId']}").json()
    assert (after["status"], after["emailSubject"]) == ("created", "Please sign the NDA")


def test_an_update_echoing_what_docusign_answered_passes(rest):
    created = rest.create_envelope()
    envelope = rest.call("GET", f"/envelopes/{created['envelopeId']}").json()

    response = rest.call("PUT", f"/envelopes/{created['envelopeId']}",
                         json={**{k: v for k, v in envelope.items() if k != "emailSubject" and k != "emailBlurb"},
                               "status": "sent"})

    assert response.status_code == 200, response.text


def test_a_recipient_view_asking_for_pings_is_refused(rest):
    created = rest.create_envelope(status="sent")

    response = rest.call("POST", f"/envelopes/{created['envelopeId']}/views/recipient",
                         json=recipient_view_request(pingUrl="https://portal.example/ping"))

    assert (response.status_code, response.json()["errorCode"]) == (400, "UNMODELLED_BY_SANDBOX")
    assert "'pingUrl'" in response.json()["message"]
