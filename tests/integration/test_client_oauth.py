"""Token and userinfo answers are validated before use (docs/security.md BI-1, BI-2)."""

from __future__ import annotations

import json

import pytest

from docusign_integration.client import conf, errors
from docusign_integration.oauth import account_server as oauth
from docusign_integration.oauth.account_server import TokenResponse, UserInfo

ACCOUNT_A = "11111111-1111-4111-8111-111111111111"
ACCOUNT_B = "22222222-2222-4222-8222-222222222222"
USER = "33333333-3333-4333-8333-333333333333"


def userinfo_json(*accounts: dict) -> dict:
    return {"sub": USER, "name": "Pat Example", "email": "pat@example.com", "accounts": list(accounts)}


def account(account_id=ACCOUNT_A, base_uri="https://demo.docusign.net", is_default=True, **extra) -> dict:
    return {"account_id": account_id, "account_name": "Example", "base_uri": base_uri, "is_default": is_default, **extra}


@pytest.mark.parametrize("base_uri", [
    "https://evil.example", "http://demo.docusign.net", "https://demo.docusign.net.evil.example",
    "https://na3.docusign.net@evil.example", "https://demo.docusign.net/restapi", "https://demo.docusign.net?x=1",
    "https://user:pw@demo.docusign.net", "", None,
])
def test_an_untrusted_base_uri_is_rejected_before_use(base_uri):
    with pytest.raises(errors.UntrustedHost):
        UserInfo.from_json(userinfo_json(account(base_uri=base_uri)), conf.get_environment(conf.DEMO))


@pytest.mark.parametrize("base_uri", ["https://na3.docusign.net", "https://eu.docusign.net/", "https://www.docusign.net"])
def test_production_accepts_regional_hosts(base_uri):
    info = UserInfo.from_json(userinfo_json(account(base_uri=base_uri)), conf.get_environment(conf.PRODUCTION))
    assert info.accounts[0].base_uri == base_uri.rstrip("/")


def test_a_demo_host_is_not_trusted_for_production():
    with pytest.raises(errors.UntrustedHost):
        UserInfo.from_json(userinfo_json(account(base_uri="https://demo.docusign.net.evil")), conf.get_environment("production"))


def test_choose_account_returns_the_named_account_or_the_default():
    org = {"organization_id": "44444444-4444-4444-8444-444444444444", "links": []}
    info = UserInfo.from_json(userinfo_json(account(ACCOUNT_A, is_default=False),
                                            account(ACCOUNT_B, is_default=True, organization=org)),
                              conf.get_environment(conf.DEMO))
    assert info.choose_account().account_id == ACCOUNT_B
    assert info.choose_account().organization_id == org["organization_id"]
    assert info.choose_account(ACCOUNT_A).account_id == ACCOUNT_A


def test_an_account_the_user_does_not_belong_to_is_refused_clearly():
    info = UserInfo.from_json(userinfo_json(account()), conf.get_environment(conf.DEMO))
    with pytest.raises(errors.NotAMember) as caught:
        info.choose_account("55555555-5555-4555-8555-555555555555")
    assert "does not belong to the chosen account" in caught.value.user_message


@pytest.mark.parametrize("body", [
    {"accounts": []}, {"sub": "not-a-guid", "accounts": []}, {"sub": USER}, {"sub": USER, "accounts": [{"account_id": "x"}]},
])
def test_a_malformed_userinfo_is_a_bad_response(body):
    with pytest.raises(errors.BadResponse):
        UserInfo.from_json(body, conf.get_environment(conf.DEMO))


@pytest.mark.parametrize("body", [
    {"token_type": "Bearer", "expires_in": 3600},
    {"access_token": "", "token_type": "Bearer", "expires_in": 3600},
    {"access_token": "t", "token_type": "mac", "expires_in": 3600},
    {"access_token": "t", "expires_in": 3600},
    {"access_token": "t", "token_type": "Bearer", "expires_in": "abc"},
    {"access_token": "t", "token_type": "Bearer", "expires_in": -5},
    {"access_token": "t", "token_type": "Bearer", "expires_in": 0},
    {"access_token": "t", "token_type": "Bearer", "expires_in": True},
    {"access_token": "t", "token_type": "Bearer"},
])
def test_malformed_token_answers_are_refused(body):
    with pytest.raises(errors.BadResponse):
        TokenResponse.from_json(body)


def test_a_huge_expires_in_is_clamped_to_a_day_and_the_token_never_appears_in_repr():
    token = TokenResponse.from_json({"access_token": "CANARY-at", "refresh_token": "CANARY-rt", "token_type": "bearer",
                                     "expires_in": 10**12})
    assert token.expires_in == 86400
    assert "CANARY" not in repr(token)


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "body", "headers", "error"), [
    (200, "<html>login</html>", {"Content-Type": "text/html"}, errors.BadResponse),
    (200, '{"access_token": "abc", "token_ty', {}, errors.BadResponse),
    (200, json.dumps({"access_token": "a", "token_type": "Bearer", "expires_in": "abc"}), {}, errors.BadResponse),
    (200, "x" * (5 * 1024 * 1024), {}, errors.BadResponse),
    (500, "<html>Internal error</html>", {"Content-Type": "text/html"}, errors.TransientError),
    (400, '{"error": "consent_required"}', {}, errors.ConsentRequired),
    (400, '{"error": "invalid_grant", "error_description": "user_not_found"}', {}, errors.InvalidGrant),
])
def test_a_refresh_against_a_misbehaving_token_endpoint_fails_cleanly(fake_docusign, settings, tmp_path,
                                                                       status, body, headers, error):
    secret = tmp_path / "secret.txt"
    secret.write_text("CANARY-client-secret")
    settings.DOCUSIGN_CLIENT_SECRET, settings.DOCUSIGN_CLIENT_SECRET_FILE = "", str(secret)
    fake_docusign.answer(status, body, headers or {"Content-Type": "application/json"})
    with pytest.raises(error) as caught:
        oauth.refresh("sandbox", "CANARY-refresh-token")
    assert "CANARY" not in str(caught.value) and "CANARY" not in caught.value.description
    assert len(fake_docusign.received) == 1  # a refresh is never retried: the refresh token may have rotated
    sent = fake_docusign.received[0]
    assert sent.path == "/oauth/token" and sent.headers["Authorization"].startswith("Basic ")
    assert b"grant_type=refresh_token" in sent.body
