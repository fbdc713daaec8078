"""DocuSign's official Python SDK over TLS drives the sandbox's users, permission profiles, groups and brands,
and sees its refusals: another user's envelope hidden, an unknown route, an unmodelled field, the wrong site."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from docusign_esign import AccountsApi, EnvelopesApi, GroupsApi, UsersApi
from docusign_esign.client.api_exception import ApiException
from docusign_esign.models import (
    AccountRoleSettings,
    Brand,
    Document,
    EnvelopeDefinition,
    Group,
    GroupInformation,
    NewUsersDefinition,
    Notification,
    PermissionProfile,
    Recipients,
    Reminders,
    Signer,
    UserInfo,
    UserInfoList,
    UserInformation,
)

from docusign_sandbox.consent import grant_individual
from docusign_sandbox.models import IntegrationKey, User
from docusign_sandbox.seed import GLOBEX_HR, JWT_SCOPES
from tests.sandbox.rest_support import SIMPLE_PDF
from tests.sandbox_tls import sdk_client_fixture, tls_sandbox_fixture  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)
ACCOUNT = GLOBEX_HR.account_id  # on the seed's second site: https://localhost:PORT under TLS


def _sign_in_as(sdk_client, tls_sandbox, email: str) -> str:
    """Consent for `email` (as the user would give it), a JWT token through the SDK, the account's base_uri."""
    grant_individual(User.objects.get(email=email), IntegrationKey.objects.get(), set(JWT_SCOPES))
    user_id = User.objects.get(email=email).user_id
    token = sdk_client.request_jwt_user_token(
        client_id=tls_sandbox.seed["integration_key"], user_id=user_id, oauth_host_name=tls_sandbox.oauth_host,
        private_key_bytes=Path(tls_sandbox.seed["private_key_path"]).read_bytes(), expires_in=3600,
        scopes=sorted(JWT_SCOPES)).access_token
    account = next(a for a in sdk_client.get_user_info(token).accounts if a.account_id == ACCOUNT)
    sdk_client.host = f"{account.base_uri}/restapi"
    sdk_client.set_default_header("Authorization", f"Bearer {token}")
    return account.base_uri


def _envelope(subject: str) -> EnvelopeDefinition:
    return EnvelopeDefinition(
        email_subject=subject, status="sent",
        documents=[Document(document_base64=base64.b64encode(SIMPLE_PDF).decode(), name="NDA.pdf",
                            file_extension="pdf", document_id="1")],
        recipients=Recipients(signers=[Signer(email="ana@client.example", name="Ana Signer", recipient_id="1",
                                              routing_order="1")]))


def _refusal(call, *args, **kwargs) -> tuple[int, dict]:
    # Not pytest.raises: a kept exception's traceback holds the SDK's socket, and the sandbox thread behind it, open.
    try:
        call(*args, **kwargs)
    except ApiException as exc:
        return exc.status, json.loads(exc.body)
    pytest.fail("the sandbox accepted the call")


def test_the_sdk_adds_a_user_with_a_profile_who_then_sees_only_their_own_envelopes(sdk_client, tls_sandbox):
    base_uri = _sign_in_as(sdk_client, tls_sandbox, "multi@globex.example")  # Globex HR's administrator
    assert base_uri == tls_sandbox.url.replace("127.0.0.1", "localhost")
    accounts, users, envelopes = AccountsApi(sdk_client), UsersApi(sdk_client), EnvelopesApi(sdk_client)
    profile = accounts.create_permission_profile(ACCOUNT, permission_profile=PermissionProfile(
        permission_profile_name="Own envelopes", settings=AccountRoleSettings(
            allow_api_access="true", allow_api_access_to_account="false", allow_envelope_sending="true")))
    [added] = users.create(ACCOUNT, new_users_definition=NewUsersDefinition(new_users=[UserInformation(
        user_name="Olive Own", email="olive@globex.example",
        permission_profile_id=profile.permission_profile_id)])).new_users
    admins_envelope = envelopes.create_envelope(ACCOUNT, envelope_definition=_envelope("The admin's")).envelope_id

    read = users.get_information(ACCOUNT, added.user_id)
    assert (read.permission_profile_name, read.user_status) == ("Own envelopes", "Active")
    assert accounts.get_permission_profile(ACCOUNT, profile.permission_profile_id).settings \
        .allow_api_access_to_account == "false"

    _sign_in_as(sdk_client, tls_sandbox, "olive@globex.example")
    own = envelopes.create_envelope(ACCOUNT, envelope_definition=_envelope("Olive's")).envelope_id
    listed = envelopes.list_status_changes(ACCOUNT, from_date="2000-01-01")

    assert [e.envelope_id for e in listed.envelopes] == [own]
    status, body = _refusal(envelopes.get_envelope, ACCOUNT, admins_envelope)
    assert (status, body["errorCode"]) == (400, "ENVELOPE_DOES_NOT_EXIST")


def test_the_sdk_closes_a_user_and_manages_groups_and_brands(sdk_client, tls_sandbox):
    _sign_in_as(sdk_client, tls_sandbox, "multi@globex.example")
    accounts, users, groups = AccountsApi(sdk_client), UsersApi(sdk_client), GroupsApi(sdk_client)
    [added] = users.create(ACCOUNT, new_users_definition=NewUsersDefinition(new_users=[UserInformation(
        user_name="Gil Group", email="gil@globex.example")])).new_users

    [group] = groups.create_groups(ACCOUNT, group_information=GroupInformation(
        groups=[Group(group_name="Sales")])).groups
    groups.update_group_users(ACCOUNT, group.group_id, user_info_list=UserInfoList(
        users=[UserInfo(user_id=added.user_id)]))
    brands = accounts.create_brand(ACCOUNT, brand=Brand(brand_name="Globex Blue", is_sending_default="true"))
    branded = _envelope("Branded")
    branded.brand_id = brands.brands[0].brand_id
    envelope = EnvelopesApi(sdk_client).create_envelope(ACCOUNT, envelope_definition=branded)
    closed = users.delete(ACCOUNT, user_info_list=UserInfoList(users=[UserInfo(user_id=added.user_id)]))

    assert [u.email for u in groups.list_group_users(ACCOUNT, group.group_id).users] == ["gil@globex.example"]
    assert [g.group_name for g in groups.list_groups(ACCOUNT).groups] == ["Sales"]
    assert envelope.status == "sent"
    assert [b.brand_name for b in accounts.list_brands(ACCOUNT).brands] == ["Globex Blue"]
    accounts.delete_brand(ACCOUNT, brands.brands[0].brand_id)
    assert not accounts.list_brands(ACCOUNT).brands
    assert [u.user_status for u in closed.users] == ["Closed"]
    assert users.get_information(ACCOUNT, added.user_id).user_status == "Closed"


def test_the_sdk_sees_an_unknown_route_and_an_unmodelled_field_refused_in_json(sdk_client, tls_sandbox):
    _sign_in_as(sdk_client, tls_sandbox, "multi@globex.example")
    reminded = _envelope("Remind me")
    reminded.notification = Notification(use_account_defaults="false", reminders=Reminders(reminder_enabled="true",
                                                                                            reminder_delay="2"))

    route = _refusal(sdk_client.call_api, f"/v2.1/accounts/{ACCOUNT}/no_such_resource", "GET",
                     header_params={"Accept": "application/json"}, response_type="object")
    field = _refusal(EnvelopesApi(sdk_client).create_envelope, ACCOUNT, envelope_definition=reminded)

    assert route == (404, {"errorCode": "RESOURCE_NOT_FOUND",
                           "message": "The URL provided does not resolve to a resource."})
    assert field[0] == 400 and field[1]["errorCode"] == "UNMODELLED_BY_SANDBOX"
    assert "'notification'" in field[1]["message"]


def test_the_sdk_calling_an_account_at_another_sites_origin_is_refused(sdk_client, tls_sandbox):
    base_uri = _sign_in_as(sdk_client, tls_sandbox, "multi@globex.example")
    sdk_client.host = f"{base_uri.replace('localhost', '127.0.0.1')}/restapi"  # the first site, not Globex's

    status, body = _refusal(UsersApi(sdk_client).list, ACCOUNT)

    assert (status, body["errorCode"]) == (401, "USER_AUTHENTICATION_FAILED")


def test_the_sdk_moves_a_user_between_profiles_then_updates_and_deletes_a_profile(sdk_client, tls_sandbox):
    _sign_in_as(sdk_client, tls_sandbox, "multi@globex.example")
    accounts, users = AccountsApi(sdk_client), UsersApi(sdk_client)
    profile = accounts.create_permission_profile(ACCOUNT, permission_profile=PermissionProfile(
        permission_profile_name="Temporary", settings=AccountRoleSettings(allow_api_access="true")))
    [added] = users.create(ACCOUNT, new_users_definition=NewUsersDefinition(new_users=[UserInformation(
        user_name="Tess Temp", email="tess@globex.example",
        permission_profile_id=profile.permission_profile_id)])).new_users

    users.update_user(ACCOUNT, added.user_id, user_information=UserInformation(permission_profile_id="10000002"))
    updated = accounts.update_permission_profile(ACCOUNT, profile.permission_profile_id,
                                                 permission_profile=PermissionProfile(
                                                     permission_profile_name="Renamed", settings=AccountRoleSettings(
                                                         allow_envelope_sending="true")))
    accounts.delete_permission_profile(ACCOUNT, profile.permission_profile_id)

    assert users.get_information(ACCOUNT, added.user_id).permission_profile_name == "DocuSign Sender"
    assert (updated.permission_profile_name, updated.settings.allow_envelope_sending) == ("Renamed", "true")
    names = [p.permission_profile_name for p in accounts.list_permissions(ACCOUNT).permission_profiles]
    assert names == ["DocuSign Viewer", "DocuSign Sender", "Account Administrator"]
    assert "tess@globex.example" in [u.email for u in users.list(ACCOUNT).users]
