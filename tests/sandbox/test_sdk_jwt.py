"""DocuSign's official Python SDK (docusign_esign.ApiClient) against the sandbox over TLS: JWT and userinfo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from docusign_esign.client.api_exception import ApiException

from tests.sandbox_tls import sdk_client_fixture, tls_sandbox_fixture  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)
SCOPES = ["signature", "impersonation"]


def _private_key(tls_sandbox) -> bytes:
    return Path(tls_sandbox.seed["private_key_path"]).read_bytes()


def _request_token(sdk_client, tls_sandbox, *, user: str = "sender", client_id: str | None = None,
                   key: bytes | None = None):
    return sdk_client.request_jwt_user_token(
        client_id=client_id or tls_sandbox.seed["integration_key"], user_id=tls_sandbox.user(user)["user_id"],
        oauth_host_name=tls_sandbox.oauth_host, private_key_bytes=key or _private_key(tls_sandbox),
        expires_in=4000, scopes=SCOPES)  # 4000 s, as DocuSign's own launcher asks (docs/docusign.md §2.1)


def _refusal(sdk_client, tls_sandbox, **kwargs: object) -> dict:
    """The JSON body of the ApiException the SDK raises, after checking its HTTP status is 400."""
    # Not pytest.raises: a kept exception's traceback holds the SDK's socket, and the sandbox thread behind it, open.
    try:
        _request_token(sdk_client, tls_sandbox, **kwargs)
    except ApiException as exc:
        assert exc.status == 400
        return json.loads(exc.body)
    pytest.fail("the SDK got a token")


def test_the_sdk_gets_a_token_for_a_consented_user_and_reads_userinfo(sdk_client, tls_sandbox):
    token = _request_token(sdk_client, tls_sandbox)

    assert token.token_type == "Bearer"
    assert int(token.expires_in) == 3600
    assert not token.refresh_token
    info = sdk_client.get_user_info(token.access_token)
    assert info.sub == tls_sandbox.user("sender")["user_id"]
    assert info.email == "sender@initech.example"
    [account] = info.accounts
    assert account.account_name == "Initech"
    # Initech's own site (the seed's second origin), not the Host the SDK called; https and no /restapi.
    assert account.base_uri == tls_sandbox.url.replace("127.0.0.1", "localhost")


def test_the_sdk_sees_consent_required_for_a_user_who_has_not_consented(sdk_client, tls_sandbox):
    assert _refusal(sdk_client, tls_sandbox, user="system") == {"error": "consent_required"}


def test_the_sdk_sees_no_valid_keys_or_signatures_for_a_wrong_key(sdk_client, tls_sandbox):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

    assert _refusal(sdk_client, tls_sandbox, key=other) == {"error": "invalid_grant",
                                                             "error_description": "no_valid_keys_or_signatures"}


def test_the_sdk_sees_issuer_not_found_for_an_unknown_integration_key(sdk_client, tls_sandbox):
    body = _refusal(sdk_client, tls_sandbox, client_id="00000000-0000-4000-8000-00000000beef")

    assert body == {"error": "invalid_grant", "error_description": "issuer_not_found"}

