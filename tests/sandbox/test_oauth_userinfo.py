"""`GET /oauth/userinfo`: DocuSign's snake_case shape (docs/docusign.md §5, §11.4)."""

from __future__ import annotations

import pytest

from tests.sandbox import assertion, consent_through_pages, exchange_code, jwt_grant, userinfo

pytestmark = pytest.mark.django_db(transaction=True)


def test_userinfo_lists_every_account_with_a_boolean_default_and_a_bare_base_uri(sandbox):
    code = consent_through_pages(sandbox, "multi@globex.example", scope="signature extended")["code"][0]
    token = exchange_code(sandbox, code).json()["access_token"]

    body = userinfo(sandbox, token).json()

    assert body["sub"] == sandbox.user("multi@globex")["user_id"]
    assert (body["name"], body["given_name"], body["family_name"]) == ("Morgan Multi", "Morgan", "Multi")
    assert body["email"] == "multi@globex.example" and body["created"]
    assert [(a["account_name"], a["is_default"]) for a in body["accounts"]] == [("Globex HR", True),
                                                                                 ("Globex General", False)]
    # Globex's accounts are on the seed's second site: the same server as localhost (docs/sandbox.md "Sites").
    assert {a["base_uri"] for a in body["accounts"]} == {sandbox.url.replace("127.0.0.1", "localhost")}
    assert "organization" not in body["accounts"][0]


def test_an_account_owned_by_an_organization_names_it_with_a_self_link(sandbox):
    code = consent_through_pages(sandbox, "admin@acme.example")["code"][0]
    token = exchange_code(sandbox, code).json()["access_token"]

    [account] = userinfo(sandbox, token).json()["accounts"]

    organization_id = account["organization"]["organization_id"]
    assert account["organization"]["links"] == [{"rel": "self", "href": f"{sandbox.url}/organizations/{organization_id}"}]


def test_a_jwt_token_reads_userinfo_too(sandbox):
    token = jwt_grant(sandbox, assertion(sandbox)).json()["access_token"]

    assert userinfo(sandbox, token).json()["accounts"][0]["account_name"] == "Initech"


@pytest.mark.parametrize("token", ["", "sbx.at.not-a-token"])
def test_a_missing_or_unknown_token_gets_401(sandbox, token):
    response = userinfo(sandbox, token)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
