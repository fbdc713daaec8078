"""Account settings, users and permission profiles over loopback HTTP."""

from __future__ import annotations

import pytest

from tests.sandbox.rest_support import serve_rest_sandbox


@pytest.fixture
def rest(transactional_db):
    with serve_rest_sandbox() as sandbox:
        yield sandbox


def test_settings_are_a_flat_object_of_strings(rest):
    settings = rest.call("GET", "/settings").json()

    assert settings["envelopeIntegrationEnabled"] == "true"
    assert settings["attachCompletedEnvelope"] == "false"
    assert all(isinstance(value, str) for value in settings.values())


def test_an_admin_put_changes_only_the_properties_sent_and_answers_200_with_no_body(rest):
    response = rest.call("PUT", "/settings", token=rest.admin_token,
                         json={"envelopeIntegrationEnabled": "false", "enableAutoNav": "false"})

    assert response.status_code == 200
    assert response.content == b""
    settings = rest.call("GET", "/settings").json()
    assert (settings["envelopeIntegrationEnabled"], settings["enableAutoNav"]) == ("false", "false")
    assert settings["allowSignerReassign"] == "true"


def test_a_non_admin_cannot_change_admin_only_properties_and_nothing_changes(rest):
    response = rest.call("PUT", "/settings", json={"enableAutoNav": "false", "usesAPI": "false"})

    assert response.status_code == 400
    assert response.json()["errorCode"] == "USER_LACKS_PERMISSIONS"
    settings = rest.call("GET", "/settings").json()
    assert (settings["enableAutoNav"], settings["usesAPI"]) == ("true", "true")


def test_a_non_admin_may_change_an_ordinary_property(rest):
    assert rest.call("PUT", "/settings", json={"signTimeShowAmPm": "true"}).status_code == 200

    assert rest.call("GET", "/settings").json()["signTimeShowAmPm"] == "true"


@pytest.mark.parametrize("value", [True, 1, None])
def test_non_string_values_are_refused(rest, value):
    response = rest.call("PUT", "/settings", token=rest.admin_token, json={"enableAutoNav": value})

    assert response.json()["errorCode"] == "INVALID_REQUEST_BODY"
    assert rest.call("GET", "/settings").json()["enableAutoNav"] == "true"


def test_settings_are_per_account(rest):
    rest.call("PUT", "/settings", token=rest.admin_token, json={"attachCompletedEnvelope": "true"})

    other = rest.call("GET", "/settings", token=rest.other_token, account_id=rest.other_account_id).json()

    assert other["attachCompletedEnvelope"] == "false"


def test_users_lists_the_accounts_members_with_docusigns_fields(rest):
    listing = rest.call("GET", "/users").json()

    assert (listing["resultSetSize"], listing["totalSetSize"], listing["startPosition"]) == ("2", "2", "0")
    admin, sender = listing["users"]
    assert admin["email"] == "admin@client-a.example"
    assert (admin["isAdmin"], admin["permissionProfileName"]) == ("true", "Account Administrator")
    assert (sender["userStatus"], sender["userType"], sender["isAdmin"]) == ("Active", "CompanyUser", "false")
    assert sender["uri"] == f"/users/{sender['userId']}"
    assert "someone@client-b.example" not in {u["email"] for u in listing["users"]}


def test_users_filter_by_email_and_status(rest):
    by_email = rest.call("GET", "/users", params={"email": "SENDER@client-a.example"}).json()
    closed = rest.call("GET", "/users", params={"status": "Closed"}).json()

    assert [u["email"] for u in by_email["users"]] == ["sender@client-a.example"]
    assert closed["users"] == []


def test_users_page_with_count_and_start_position(rest):
    first = rest.call("GET", "/users", params={"count": "1"}).json()
    second = rest.call("GET", "/users", params={"count": "1", "start_position": "1"}).json()

    assert [u["email"] for u in first["users"] + second["users"]] == ["admin@client-a.example",
                                                                     "sender@client-a.example"]
    assert first["nextUri"] and first["previousUri"] is None
    assert second["nextUri"] is None and second["previousUri"]


def test_one_user_by_id_and_an_unknown_one(rest):
    user = rest.call("GET", f"/users/{rest.sender_user_id}").json()
    unknown = rest.call("GET", "/users/00000000-0000-0000-0000-000000000000")

    assert user["email"] == "sender@client-a.example"
    assert unknown.status_code == 400


def test_permission_profiles_are_docusigns_three_defaults_with_user_counts(rest):
    profiles = rest.call("GET", "/permission_profiles?include=user_count").json()["permissionProfiles"]

    counts = {p["permissionProfileName"]: p["userCount"] for p in profiles}
    assert counts == {"DocuSign Viewer": "0", "DocuSign Sender": "1", "Account Administrator": "1"}
    assert all(isinstance(value, str) for p in profiles for value in p["settings"].values())


def test_a_member_of_another_account_is_refused(rest):
    response = rest.call("GET", "/settings", token=rest.other_token)

    assert response.status_code == 400
    assert response.json()["errorCode"] == "USER_DOES_NOT_BELONG_TO_SPECIFIED_ACCOUNT"
