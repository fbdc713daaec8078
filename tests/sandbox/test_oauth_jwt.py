"""The JWT bearer grant: success and every refusal of docs/docusign.md §2.3, §11.1, over loopback HTTP."""

from __future__ import annotations

import time

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from docusign_sandbox.models import SandboxControl
from tests.sandbox import JWT_GRANT_TYPE, assertion, jwt_grant

pytestmark = pytest.mark.django_db(transaction=True)


def _refused(response: requests.Response, description: str) -> None:
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": description}


def _other_private_key() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def test_a_consented_user_gets_a_one_hour_bearer_token_without_refresh_token(sandbox):
    response = jwt_grant(sandbox, assertion(sandbox))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert response.headers["Cache-Control"] == "no-store"
    me = requests.get(f"{sandbox.url}/oauth/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"},
                      timeout=10)
    assert me.json()["email"] == "sender@initech.example"


def test_an_assertion_longer_than_an_hour_is_accepted_and_the_token_capped(sandbox):
    now = int(time.time())
    response = jwt_grant(sandbox, assertion(sandbox, iat=now, exp=now + 4000))

    assert response.status_code == 200
    assert response.json()["expires_in"] == 3600


def test_a_user_who_never_consented_gets_consent_required_without_description(sandbox):
    response = jwt_grant(sandbox, assertion(sandbox, sub=sandbox.user("system")["user_id"]))

    assert response.status_code == 400
    assert response.json() == {"error": "consent_required"}


def test_asking_for_more_scopes_than_consented_gives_consent_required(sandbox):
    response = jwt_grant(sandbox, assertion(sandbox, scope="signature impersonation click.manage"))

    assert response.json() == {"error": "consent_required"}


def test_a_scope_without_impersonation_gives_consent_required(sandbox):
    assert jwt_grant(sandbox, assertion(sandbox, scope="signature")).json() == {"error": "consent_required"}


def test_an_assertion_signed_by_an_unregistered_key_is_refused(sandbox):
    _refused(jwt_grant(sandbox, assertion(sandbox, key_pem=_other_private_key())), "no_valid_keys_or_signatures")


def test_an_assertion_without_exp_is_refused(sandbox):
    _refused(jwt_grant(sandbox, assertion(sandbox, omit=("exp",))), "no_valid_keys_or_signatures")


def test_an_assertion_with_nbf_in_the_future_is_refused(sandbox):
    _refused(jwt_grant(sandbox, assertion(sandbox, nbf=int(time.time()) + 600)), "no_valid_keys_or_signatures")


def test_a_garbled_assertion_is_refused(sandbox):
    _refused(jwt_grant(sandbox, "not.a.jwt"), "no_valid_keys_or_signatures")


def test_an_unknown_integration_key_gives_issuer_not_found(sandbox):
    _refused(jwt_grant(sandbox, assertion(sandbox, iss="00000000-0000-4000-8000-00000000dead")), "issuer_not_found")


@pytest.mark.parametrize("audience", ["https://{host}", "{host}/", "account-d.docusign.com"])
def test_an_aud_other_than_the_host_called_gives_issuer_not_found(sandbox, audience):
    token = assertion(sandbox, aud=audience.format(host=sandbox.seed["oauth_host"]))

    _refused(jwt_grant(sandbox, token), "issuer_not_found")


@pytest.mark.parametrize("subject", ["00000000-0000-4000-8000-000000000000", "sender@initech.example"])
def test_a_sub_that_is_not_a_known_user_guid_gives_user_not_found(sandbox, subject):
    _refused(jwt_grant(sandbox, assertion(sandbox, sub=subject)), "user_not_found")


def test_an_expired_assertion_gives_expired_grant(sandbox):
    now = int(time.time())
    _refused(jwt_grant(sandbox, assertion(sandbox, iat=now - 7200, exp=now - 3600)), "expired_grant")


def test_expiry_is_judged_by_the_sandbox_clock(sandbox):
    SandboxControl.objects.update_or_create(pk=1, defaults={"clock_offset_seconds": 7200})

    _refused(jwt_grant(sandbox, assertion(sandbox)), "expired_grant")


def test_a_json_body_is_refused_as_invalid_request(sandbox):
    response = requests.post(f"{sandbox.url}/oauth/token",
                             json={"grant_type": JWT_GRANT_TYPE, "assertion": assertion(sandbox)}, timeout=10)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_an_unknown_grant_type_is_refused(sandbox):
    response = requests.post(f"{sandbox.url}/oauth/token", data={"grant_type": "password"}, timeout=10)

    _refused(response, "unsupported_grant_type")
