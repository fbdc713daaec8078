"""Users and permission profiles over loopback HTTP, and what a profile allows enforced."""

from __future__ import annotations

import pytest

from docusign_sandbox.auth import issue_access_token
from docusign_sandbox.models import IntegrationKey, User
from tests.sandbox.rest_support import serve_rest_sandbox


@pytest.fixture
def rest(transactional_db):
    with serve_rest_sandbox() as sandbox:
        yield sandbox


def _profile(rest, name: str, **settings: str) -> dict:
    response = rest.call("POST", "/permission_profiles", token=rest.admin_token,
                         json={"permissionProfileName": name, "settings": settings})
    assert response.status_code == 201, response.text
    return response.json()


def _add_user(rest, email: str, **fields: str) -> dict:
    response = rest.call("POST", "/users", token=rest.admin_token,
                         json={"newUsers": [{"userName": email.split("@")[0], "email": email, **fields}]})
    assert response.status_code == 201, response.text
    return response.json()["newUsers"][0]


def _token_of(user_id: str) -> str:
    return issue_access_token(User.objects.get(user_id=user_id), IntegrationKey.objects.get(), "signature", "jwt", 600)


def test_an_admin_adds_a_user_with_a_permission_profile_and_reads_it_back(rest):
    profile = _profile(rest, "Own envelopes only", allowApiAccess="true", allowApiAccessToAccount="false",
                       allowEnvelopeSending="true")

    added = _add_user(rest, "new@client-a.example", permissionProfileId=profile["permissionProfileId"])
    read = rest.call("GET", f"/users/{added['userId']}").json()

    assert added["userStatus"] == "Active" and added["uri"] == f"/users/{added['userId']}"
    assert (read["permissionProfileId"], read["permissionProfileName"]) == (profile["permissionProfileId"],
                                                                           "Own envelopes only")
    listing = rest.call("GET", "/permission_profiles", params={"include": "user_count"}).json()
    assert {p["permissionProfileName"]: p["userCount"] for p in listing["permissionProfiles"]}["Own envelopes only"] \
        == "1"


def test_adding_an_existing_member_reports_it_per_user(rest):
    again = rest.call("POST", "/users", token=rest.admin_token,
                      json={"newUsers": [{"userName": "Sam", "email": "sender@client-a.example"}]}).json()

    assert again["newUsers"][0]["errorDetails"]["errorCode"] == "USER_ALREADY_EXISTS_IN_ACCOUNT"


def test_a_sender_cannot_add_users_or_profiles(rest):
    users = rest.call("POST", "/users", json={"newUsers": [{"userName": "X", "email": "x@client-a.example"}]})
    profile = rest.call("POST", "/permission_profiles", json={"permissionProfileName": "Mine"})

    assert users.json()["errorCode"] == profile.json()["errorCode"] == "USER_LACKS_PERMISSIONS"
    assert not User.objects.filter(email="x@client-a.example").exists()


def test_a_user_without_account_wide_access_lists_and_reads_only_their_own_envelopes(rest):
    profile = _profile(rest, "Own envelopes only", allowApiAccess="true", allowApiAccessToAccount="false",
                       allowEnvelopeSending="true")
    restricted = _token_of(_add_user(rest, "own@client-a.example",
                                     permissionProfileId=profile["permissionProfileId"])["userId"])
    theirs = rest.create_envelope()  # sent by the account's plain sender
    own = rest.call("POST", "/envelopes", token=restricted, json=rest_definition()).json()

    listed = rest.call("GET", "/envelopes", token=restricted, params={"from_date": "2000-01-01"}).json()
    other = rest.call("GET", f"/envelopes/{theirs['envelopeId']}", token=restricted)

    assert [e["envelopeId"] for e in listed["envelopes"]] == [own["envelopeId"]]
    assert other.json()["errorCode"] == "ENVELOPE_DOES_NOT_EXIST"
    everyone = rest.call("GET", "/envelopes", token=rest.admin_token, params={"from_date": "2000-01-01"}).json()
    assert everyone["totalSetSize"] == "2"


def rest_definition() -> dict:
    from tests.sandbox.rest_support import envelope_definition

    return envelope_definition()


def test_a_profile_without_sending_cannot_create_and_one_without_api_access_cannot_call(rest):
    no_send = _profile(rest, "Reader", allowApiAccess="true", allowApiAccessToAccount="true")
    reader = _token_of(_add_user(rest, "reader@client-a.example", permissionProfileId=no_send["permissionProfileId"])
                       ["userId"])
    viewer = _token_of(_add_user(rest, "viewer@client-a.example", permissionProfileName="DocuSign Viewer")["userId"])

    assert rest.call("POST", "/envelopes", token=reader, json=rest_definition()).json()["errorCode"] \
        == "USER_LACKS_PERMISSIONS"
    assert rest.call("GET", "/settings", token=viewer).json()["errorCode"] == "USER_LACKS_PERMISSIONS"


def test_updating_a_users_profile_changes_what_they_may_do(rest):
    viewer = _add_user(rest, "later@client-a.example", permissionProfileName="DocuSign Viewer")
    token = _token_of(viewer["userId"])
    assert rest.call("GET", "/settings", token=token).status_code == 400

    updated = rest.call("PUT", f"/users/{viewer['userId']}", token=rest.admin_token,
                        json={"permissionProfileName": "docusign sender"})

    assert updated.json()["permissionProfileName"] == "DocuSign Sender"
    assert rest.call("GET", "/settings", token=token).status_code == 200


def test_closing_a_user_ends_their_access_to_the_account(rest):
    closed = rest.call("DELETE", "/users", token=rest.admin_token, json={"users": [{"userId": rest.sender_user_id}]})

    assert closed.json()["users"][0]["userStatus"] == "Closed"
    assert rest.call("GET", "/settings").json()["errorCode"] == "USER_DOES_NOT_BELONG_TO_SPECIFIED_ACCOUNT"
    assert [u["email"] for u in rest.call("GET", "/users", token=rest.admin_token,
                                          params={"status": "closed"}).json()["users"]] == ["sender@client-a.example"]


def test_a_profile_is_updated_renamed_and_deleted_once_nobody_holds_it(rest):
    profile = _profile(rest, "Temp", allowApiAccess="true")
    path = f"/permission_profiles/{profile['permissionProfileId']}"
    holder = _add_user(rest, "temp@client-a.example", permissionProfileId=profile["permissionProfileId"])

    renamed = rest.call("PUT", path, token=rest.admin_token,
                        json={"permissionProfileName": "Renamed", "settings": {"allowEnvelopeSending": "true"}}).json()
    in_use = rest.call("DELETE", path, token=rest.admin_token)
    rest.call("PUT", f"/users/{holder['userId']}", token=rest.admin_token, json={"permissionProfileId": "10000002"})
    deleted = rest.call("DELETE", path, token=rest.admin_token)

    assert (renamed["permissionProfileName"], renamed["settings"]["allowEnvelopeSending"]) == ("Renamed", "true")
    assert rest.call("GET", f"/users/{holder['userId']}").json()["permissionProfileName"] == "DocuSign Sender"
    assert in_use.json()["errorCode"] == "PERMISSION_PROFILE_IN_USE"
    assert deleted.status_code == 200
    assert rest.call("GET", path).json()["errorCode"] == "PERMISSION_PROFILE_NOT_FOUND"


def test_a_role_setting_the_sandbox_does_not_enforce_is_refused(rest):
    response = rest.call("POST", "/permission_profiles", token=rest.admin_token,
                         json={"permissionProfileName": "Bulk", "settings": {"allowBulkSending": "true"}})

    assert response.json()["errorCode"] == "UNMODELLED_BY_SANDBOX" and "allowBulkSending" in response.json()["message"]
