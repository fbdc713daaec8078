"""JWT assertions are well-formed (docs/security.md OA-9), and identifiers are checked before any URL (BI-3)."""

from __future__ import annotations

from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from docusign_integration.client.errors import InvalidIdentifier, UntrustedHost
from docusign_integration.client.ids import require_document_id, require_guid
from docusign_integration.client.rest import AccountRef, rest_call
from docusign_integration.oauth.jwt_assertion import build_assertion

IK = "5c1f3d2e-6a1b-4c8e-9f7a-2d4b6e8a0c11"
USER = "0f6e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture(scope="module")
def keypair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.mark.parametrize("now", [datetime(2024, 1, 1, tzinfo=UTC), datetime(2026, 6, 18, 12, 30, tzinfo=UTC), None])
@pytest.mark.parametrize("audience", ["account-d.docusign.com", "account.docusign.com"])
def test_the_assertion_verifies_with_the_public_key_and_has_docusigns_claims(keypair, now, audience):
    private, public = keypair
    token = build_assertion(integration_key=IK, user_id=USER, audience=audience, private_key_pem=private, now=now)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(token, public, algorithms=["RS256"], audience=audience, options={"verify_exp": False})
    assert (claims["iss"], claims["sub"], claims["aud"], claims["scope"]) == (IK, USER, audience, "signature impersonation")
    assert claims["exp"] - claims["iat"] <= 3600
    expected_iat = int(now.timestamp()) if now else int(datetime.now(UTC).timestamp())
    assert abs(claims["iat"] - expected_iat) <= 2


def test_each_assertion_has_a_fresh_jti(keypair):
    make = lambda: build_assertion(integration_key=IK, user_id=USER, audience="account-d.docusign.com",  # noqa: E731
                                   private_key_pem=keypair[0])
    assert len({jwt.decode(make(), options={"verify_signature": False})["jti"] for _ in range(5)}) == 5


@pytest.mark.parametrize("audience", ["https://account-d.docusign.com", "account-d.docusign.com/", ""])
def test_an_audience_with_a_scheme_or_slash_is_refused(keypair, audience):
    with pytest.raises(ValueError):
        build_assertion(integration_key=IK, user_id=USER, audience=audience, private_key_pem=keypair[0])


def test_a_lifetime_over_an_hour_is_refused(keypair):
    with pytest.raises(ValueError):
        build_assertion(integration_key=IK, user_id=USER, audience="account.docusign.com", private_key_pem=keypair[0],
                        lifetime=3601)


@pytest.mark.parametrize("value", ["../../users", "%2e%2e%2f", "abc?x=1", "0", "x" * 10_000, USER + "\n", USER.upper() + "/",
                                   USER.replace("0", "\uff10"), USER.replace("a", "\u0430"), None, 42])
def test_anything_but_an_ascii_guid_is_refused(value):
    with pytest.raises(InvalidIdentifier):
        require_guid(value, "envelope_id")


def test_a_guid_passes_in_either_case():
    assert require_guid(USER.upper(), "user_id") == USER.upper()


@pytest.mark.parametrize("value", ["1", "42", "combined", "certificate", "archive"])
def test_documented_document_ids_pass(value):
    assert require_document_id(value) == value


@pytest.mark.parametrize("value", ["", "-1", "1/2", "combined/..", "\u0661", "1" * 20])
def test_other_document_ids_are_refused(value):
    with pytest.raises(InvalidIdentifier):
        require_document_id(value)


def test_an_account_ref_refuses_a_bad_account_id_or_host(settings):
    settings.DOCUSIGN_SANDBOX_URL = "http://127.0.0.1:9"
    with pytest.raises(InvalidIdentifier):
        AccountRef("sandbox", "../../users", "http://127.0.0.1:9")
    with pytest.raises(UntrustedHost):
        AccountRef("demo", USER, "https://evil.example")
    ref = AccountRef("demo", USER, "https://demo.docusign.net/")
    assert ref.api_url == f"https://demo.docusign.net/restapi/v2.1/accounts/{USER}"


@pytest.mark.parametrize("path", ["/envelopes/../users", "envelopes", "/envelopes?x=1", "/a%2f..", "//evil.example/x"])
def test_rest_paths_must_be_plain(path):
    ref = AccountRef("demo", USER, "https://demo.docusign.net")
    with pytest.raises(InvalidIdentifier):
        rest_call(ref, "GET", path, bearer="unused")  # refused before any connection (none is allowed in tests anyway)
