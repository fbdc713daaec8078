"""Envelope custom fields: on create, their endpoint, include=custom_fields, the list filter, and Connect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.sandbox.rest_support import serve_rest_sandbox

FIELDS = {"textCustomFields": [{"name": "ClientRef", "value": "ACME-42", "show": "true"}],
          "listCustomFields": [{"name": "Region", "value": "West", "listItems": ["East", "West"]}]}


@pytest.fixture
def rest(transactional_db):
    with serve_rest_sandbox() as sandbox:
        yield sandbox


def _since() -> str:
    return (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_custom_fields_given_on_create_come_back_with_include(rest):
    envelope_id = rest.create_envelope(customFields=FIELDS)["envelopeId"]

    envelope = rest.call("GET", f"/envelopes/{envelope_id}?include=custom_fields").json()

    assert envelope["customFields"] == {
        "textCustomFields": [{"fieldId": "1", "name": "ClientRef", "show": "true", "required": "false", "value": "ACME-42"}],
        "listCustomFields": [{"fieldId": "2", "name": "Region", "show": "true", "required": "false", "value": "West",
                              "listItems": ["East", "West"]}]}
    assert "customFields" not in rest.call("GET", f"/envelopes/{envelope_id}").json()


def test_the_custom_fields_endpoint_adds_changes_and_deletes(rest):
    envelope_id = rest.create_envelope(customFields=FIELDS)["envelopeId"]
    path = f"/envelopes/{envelope_id}/custom_fields"

    added = rest.call("POST", path, json={"textCustomFields": [{"name": "Batch", "value": "7"}]})
    assert added.status_code == 201
    assert added.json()["textCustomFields"][0]["fieldId"] == "3"
    assert rest.call("PUT", path, json={"textCustomFields": [{"fieldId": "1", "value": "ACME-43"}]}).status_code == 200
    assert rest.call("DELETE", path, json={"listCustomFields": [{"fieldId": "2"}]}).status_code == 200

    fields = rest.call("GET", path).json()
    assert [(f["name"], f["value"]) for f in fields["textCustomFields"]] == [("ClientRef", "ACME-43"), ("Batch", "7")]
    assert fields["listCustomFields"] == []


@pytest.mark.parametrize(("method", "body", "code"), [
    ("POST", {"textCustomFields": [{"name": "clientref", "value": "dup"}]}, "DUPLICATE_CUSTOM_FIELD_NAME"),
    ("PUT", {"textCustomFields": [{"fieldId": "99", "value": "x"}]}, "CUSTOM_FIELD_DOES_NOT_EXIST"),
    ("PUT", {"listCustomFields": [{"fieldId": "2", "value": "North"}]}, "INVALID_LIST_CUSTOM_FIELD_VALUE"),
])
def test_bad_custom_field_changes_are_refused_and_change_nothing(rest, method, body, code):
    envelope_id = rest.create_envelope(customFields=FIELDS)["envelopeId"]
    path = f"/envelopes/{envelope_id}/custom_fields"
    before = rest.call("GET", path).json()

    response = rest.call(method, path, json=body)

    assert response.status_code == 400
    assert response.json()["errorCode"] == code
    assert rest.call("GET", path).json() == before


def test_list_status_changes_filters_by_custom_field_and_includes_them_in_constant_queries(rest):
    west = [rest.create_envelope(customFields=FIELDS)["envelopeId"] for _ in range(2)]
    rest.create_envelope(customFields={"listCustomFields": [{"name": "Region", "value": "East", "listItems": ["East"]}]})
    rest.create_envelope()

    exact = rest.call("GET", f"/envelopes?from_date={_since()}&custom_field=Region=West").json()
    contains = rest.call("GET", f"/envelopes?from_date={_since()}&custom_field=ClientRef=%25ME-4%25").json()
    with CaptureQueriesContext(connection) as two:
        rest.call("GET", f"/envelopes?from_date={_since()}&include=custom_fields&count=2")
    with CaptureQueriesContext(connection) as four:
        listed = rest.call("GET", f"/envelopes?from_date={_since()}&include=custom_fields").json()

    assert sorted(e["envelopeId"] for e in exact["envelopes"]) == sorted(west)
    assert sorted(e["envelopeId"] for e in contains["envelopes"]) == sorted(west)
    assert all("customFields" in e for e in listed["envelopes"])
    assert len(four.captured_queries) == len(two.captured_queries)


def test_connect_messages_carry_the_custom_fields_when_include_data_asks(rest):
    from docusign_sandbox.models import Account, ConnectConfiguration, ConnectDelivery, SandboxControl

    SandboxControl.objects.update_or_create(pk=1, defaults={"connect_drop_percent": 100})  # recorded, never sent
    ConnectConfiguration.objects.create(account=Account.objects.get(account_id=rest.account_id), body={
        "configurationType": "custom", "name": "portal", "urlToPublishTo": "https://listener.example/connect",
        "allowEnvelopePublish": "true", "allUsers": "true", "deliveryMode": "SIM", "events": ["envelope-sent"],
        "eventData": {"version": "restv2.1", "format": "json", "includeData": ["custom_fields"]}})

    rest.create_envelope(status="sent", customFields=FIELDS)

    summary = ConnectDelivery.objects.get(event="envelope-sent").payload["data"]["envelopeSummary"]
    assert summary["customFields"]["textCustomFields"][0]["value"] == "ACME-42"
    assert summary["customFields"]["listCustomFields"][0]["listItems"] == ["East", "West"]
