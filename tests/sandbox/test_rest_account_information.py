"""GET /restapi/v2.1/accounts/{accountId}: accountInformation as DocuSign's examples read it."""

from __future__ import annotations

import pytest

from tests.sandbox.rest_support import serve_rest_sandbox


@pytest.fixture
def rest(transactional_db):
    with serve_rest_sandbox() as sandbox:
        yield sandbox


def test_account_information_names_the_account_its_plan_billing_period_and_cfr_flag(rest):
    rest.create_envelope(status="sent")
    rest.create_envelope()  # a draft is not sent in the billing period

    response = rest.call("GET", "")

    assert response.status_code == 200
    info = response.json()
    assert info["accountIdGuid"] == rest.account_id
    assert info["accountName"] == "Client A"
    assert info["externalAccountId"] == "1000001"
    assert info["planName"] == "DEVCENTER_DEMO_APRIL2013"
    assert info["status21CFRPart11"] == "false"
    assert info["billingPeriodEnvelopesSent"] == "1"
    assert info["billingPeriodStartDate"] < info["billingPeriodEndDate"]
    assert info["seatsInUse"] == "2"
    assert all(isinstance(value, str) for value in info.values())
    assert "accountSettings" not in info
    with_settings = rest.call("GET", "?include_account_settings=true").json()
    assert with_settings["accountSettings"]["envelopeIntegrationEnabled"] == "true"


def test_account_information_of_an_account_the_user_is_not_in_is_refused(rest):
    response = rest.call("GET", "", account_id=rest.other_account_id)

    assert response.status_code == 400
    assert response.json()["errorCode"] == "USER_DOES_NOT_BELONG_TO_SPECIFIED_ACCOUNT"
