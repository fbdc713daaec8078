"""Groups and brands over loopback HTTP; an envelope's unknown `brandId` is refused."""

from __future__ import annotations

import pytest

from tests.sandbox.rest_support import envelope_definition, serve_rest_sandbox


@pytest.fixture
def rest(transactional_db):
    with serve_rest_sandbox() as sandbox:
        yield sandbox


def test_a_group_is_created_listed_and_given_members(rest):
    created = rest.call("POST", "/groups", token=rest.admin_token, json={"groups": [{"groupName": "Sales"}]})
    group_id = created.json()["groups"][0]["groupId"]

    added = rest.call("PUT", f"/groups/{group_id}/users", token=rest.admin_token,
                      json={"users": [{"userId": rest.sender_user_id}]})
    listed = rest.call("GET", "/groups").json()["groups"]

    assert created.status_code == 201
    assert [u["email"] for u in added.json()["users"]] == ["sender@client-a.example"]
    assert [(g["groupName"], g["usersCount"]) for g in listed] == [("Sales", "1")]
    assert [u["email"] for u in rest.call("GET", f"/groups/{group_id}/users").json()["users"]] \
        == ["sender@client-a.example"]


def test_a_user_of_another_account_cannot_join_a_group(rest):
    group_id = rest.call("POST", "/groups", token=rest.admin_token,
                         json={"groups": [{"groupName": "Sales"}]}).json()["groups"][0]["groupId"]
    stranger = rest.call("GET", "/users", token=rest.other_token, account_id=rest.other_account_id).json()["users"][0]

    response = rest.call("PUT", f"/groups/{group_id}/users", token=rest.admin_token,
                         json={"users": [{"userId": stranger["userId"]}]})

    assert response.json()["errorCode"] == "USER_DOES_NOT_EXIST_IN_SYSTEM"
    assert rest.call("GET", f"/groups/{group_id}/users").json()["users"] == []


def test_a_brand_is_created_listed_used_by_an_envelope_and_deleted(rest):
    created = rest.call("POST", "/brands", token=rest.admin_token,
                        json={"brandName": "Client A Blue", "brandCompany": "Client A", "isSendingDefault": "true"})
    brand_id = created.json()["brands"][0]["brandId"]

    envelope = rest.call("POST", "/envelopes", json=envelope_definition(brandId=brand_id))
    deleted = rest.call("DELETE", f"/brands/{brand_id}", token=rest.admin_token)

    assert created.status_code == 201 and created.json()["senderBrandIdDefault"] == brand_id
    assert envelope.status_code == 201, envelope.text
    assert rest.call("GET", f"/envelopes/{envelope.json()['envelopeId']}").json()["brandId"] == brand_id
    assert deleted.status_code == 200
    assert rest.call("GET", "/brands").json()["brands"] == []


def test_an_envelope_naming_an_unknown_brand_is_refused_and_not_created(rest):
    other_brand = rest.call("POST", "/brands", token=rest.other_token, account_id=rest.other_account_id,
                            json={"brandName": "Client B"}).json()["brands"][0]["brandId"]

    for brand_id in ("3f1c0d4e-0000-4000-8000-000000000000", other_brand):
        response = rest.call("POST", "/envelopes", json=envelope_definition(brandId=brand_id))
        assert (response.status_code, response.json()["errorCode"]) == (400, "BRAND_NOT_FOUND")
    assert rest.call("GET", "/envelopes", params={"from_date": "2000-01-01"}).json()["totalSetSize"] == "0"


def test_brands_are_deleted_in_bulk_and_logos_are_refused(rest):
    ids = [rest.call("POST", "/brands", token=rest.admin_token, json={"brandName": name}).json()["brands"][-1]["brandId"]
           for name in ("One", "Two")]
    logo = rest.call("POST", "/brands", token=rest.admin_token, json={"brandName": "Logo", "logos": {"primary": "x"}})

    remaining = rest.call("DELETE", "/brands", token=rest.admin_token, json={"brands": [{"brandId": ids[0]}]})

    assert [b["brandName"] for b in remaining.json()["brands"]] == ["Two"]
    assert logo.json()["errorCode"] == "UNMODELLED_BY_SANDBOX"
