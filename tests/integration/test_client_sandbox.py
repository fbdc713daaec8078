"""The client against the DocuSign sandbox over loopback HTTP: JWT grant, userinfo, REST, refusals, no leaks."""

from __future__ import annotations

import logging

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from docusign_integration.client import conf, errors, http
from docusign_integration.client.rest import AccountRef, rest_call
from docusign_integration.oauth import account_server as oauth

UNKNOWN_USER = "a0000001-0000-4000-8000-0000000000ff"


def test_a_consented_user_gets_a_one_hour_token_and_their_accounts(sandbox):
    sender = sandbox.user("sender@initech.example")
    token = oauth.jwt_grant("sandbox", sender["user_id"])
    assert token.expires_in == 3600 and token.refresh_token is None

    info = oauth.userinfo("sandbox", token.access_token)
    assert (info.sub, info.email) == (sender["user_id"], "sender@initech.example")
    account = info.choose_account()
    assert account.account_id == sender["accounts"][0] and account.is_default
    assert account.base_uri == sandbox.site(account.account_id) != sandbox.url  # Initech is on the second site


def test_the_token_works_on_the_accounts_rest_api(sandbox):
    sender = sandbox.user("sender@initech.example")
    token = oauth.jwt_grant("sandbox", sender["user_id"]).access_token
    account = oauth.userinfo("sandbox", token).choose_account()
    ref = AccountRef("sandbox", account.account_id, account.base_uri)
    settings_json = http.json_or_raise(rest_call(ref, "GET", "/settings", bearer=token))
    assert settings_json["envelopeIntegrationEnabled"] == "true"


def test_a_user_without_consent_raises_consent_required(sandbox):
    with pytest.raises(errors.ConsentRequired) as caught:
        oauth.jwt_grant("sandbox", sandbox.user("system@acme.example")["user_id"])
    assert caught.value.status == 400 and "consent" in caught.value.user_message


def test_a_key_that_is_not_registered_gives_the_actionable_sentence(sandbox, settings):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings.DOCUSIGN_PRIVATE_KEY = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()).decode()
    conf.reset_caches()
    with pytest.raises(errors.InvalidGrant) as caught:
        oauth.jwt_grant("sandbox", sandbox.user("sender@initech.example")["user_id"])
    assert caught.value.error_code == "no_valid_keys_or_signatures"
    assert caught.value.user_message == ("The configured RSA key is not registered on the integration key, "
                                         "or belongs to the other environment.")


def test_an_unknown_user_gives_user_not_found(sandbox):
    with pytest.raises(errors.InvalidGrant) as caught:
        oauth.jwt_grant("sandbox", UNKNOWN_USER)
    assert caught.value.error_code == "user_not_found"
    assert "check the system user's GUID" in caught.value.user_message


def test_an_unknown_integration_key_gives_issuer_not_found(sandbox, settings):
    settings.DOCUSIGN_INTEGRATION_KEY = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(errors.InvalidGrant) as caught:
        oauth.jwt_grant("sandbox", sandbox.user("sender@initech.example")["user_id"])
    assert caught.value.error_code == "issuer_not_found"


def test_a_bad_bearer_token_is_unauthorized(sandbox):
    with pytest.raises(errors.Unauthorized):
        oauth.userinfo("sandbox", "not-a-real-token")


def test_a_token_endpoint_that_fails_twice_is_retried_for_the_jwt_grant(sandbox, settings):
    import requests

    settings.DOCUSIGN_HTTP_BACKOFF_BASE = 0.01
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"path_pattern": "^/oauth/token$", "kind": "503", "count": 1},
                  timeout=5).raise_for_status()
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"path_pattern": "^/oauth/token$", "kind": "drop", "count": 1},
                  timeout=5).raise_for_status()
    token = oauth.jwt_grant("sandbox", sandbox.user("sender@initech.example")["user_id"])
    assert token.expires_in == 3600


def test_no_token_key_or_secret_reaches_the_logs(sandbox, caplog):
    caplog.set_level(logging.DEBUG)  # root, urllib3 and our loggers alike
    for name in ("urllib3", "requests", "docusign_integration"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    sender = sandbox.user("sender@initech.example")
    token = oauth.jwt_grant("sandbox", sender["user_id"]).access_token
    account = oauth.userinfo("sandbox", token).choose_account()
    rest_call(AccountRef("sandbox", account.account_id, account.base_uri), "GET", "/settings", bearer=token)
    with pytest.raises(errors.ConsentRequired):
        oauth.jwt_grant("sandbox", sandbox.user("system@acme.example")["user_id"])
    with pytest.raises(errors.InvalidGrant):
        oauth.refresh("sandbox", "CANARY-refresh-token-value")

    assert "docusign_call method=POST" in caplog.text and "path=/oauth/token" in caplog.text
    secrets = [token, "CANARY", conf.client_secret(), conf.private_key_pem().splitlines()[1], "Bearer ", "assertion="]
    for secret in secrets:
        assert secret not in caplog.text
