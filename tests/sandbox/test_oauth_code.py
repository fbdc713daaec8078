"""The Authorization Code grant through the account server's real pages, and its refusals (docs/docusign.md §3.1, §4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from docusign_sandbox.models import SandboxControl
from tests.sandbox import (
    authorize_url,
    consent_through_pages,
    csrf_token,
    decide,
    exchange_code,
    redirect_params,
    sign_in,
    userinfo,
)

pytestmark = pytest.mark.django_db(transaction=True)

# RFC 7636 Appendix B: this verifier's S256 challenge.
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
PKCE = {"code_challenge": CHALLENGE, "code_challenge_method": "S256"}


def _code(sandbox, email: str = "system@acme.example", **params: str) -> str:
    return consent_through_pages(sandbox, email, **params)["code"][0]


def test_signing_in_and_approving_redirects_with_a_code_and_the_state_that_exchange_for_tokens(sandbox):
    with requests.Session() as session:
        page = session.get(authorize_url(sandbox, scope="signature extended", state="xyz-42", **PKCE), timeout=10)
        assert "Sign in" in page.text
        page = sign_in(session, page, "system@acme.example")
        assert page.status_code == 200 and "Allow access?" in page.text and "extended" in page.text
        redirect = decide(session, page)

    assert redirect.status_code == 302
    assert redirect.headers["Location"].startswith(sandbox.seed["redirect_uris"][0] + "?")
    params = redirect_params(redirect)
    assert params["state"] == ["xyz-42"]
    tokens = exchange_code(sandbox, params["code"][0], code_verifier=VERIFIER)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 28800 and body["refresh_token"]
    assert body["scope"] == "extended signature"
    assert userinfo(sandbox, body["access_token"]).json()["email"] == "system@acme.example"


def test_a_public_client_exchanges_with_client_id_and_the_rfc7636_verifier(sandbox):
    response = exchange_code(sandbox, _code(sandbox, **PKCE), public=True, code_verifier=VERIFIER)

    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 28800


def test_a_public_client_without_pkce_is_refused(sandbox):
    response = exchange_code(sandbox, _code(sandbox), public=True)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_code_works_once(sandbox):
    code = _code(sandbox)
    assert exchange_code(sandbox, code).status_code == 200

    again = exchange_code(sandbox, code)

    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_a_wrong_code_verifier_is_refused(sandbox):
    response = exchange_code(sandbox, _code(sandbox, **PKCE), code_verifier=VERIFIER[:-1] + "Y")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_missing_code_verifier_is_refused_when_the_code_has_a_challenge(sandbox):
    response = exchange_code(sandbox, _code(sandbox, **PKCE))

    assert response.json()["error"] == "invalid_grant"


def test_a_verifier_for_a_code_issued_without_challenge_is_refused(sandbox):
    assert exchange_code(sandbox, _code(sandbox), code_verifier=VERIFIER).json()["error"] == "invalid_grant"


def test_a_wrong_client_secret_is_refused(sandbox):
    response = exchange_code(sandbox, _code(sandbox), secret="not-the-secret")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"


def test_a_code_expires_after_five_minutes_of_sandbox_time(sandbox):
    code = _code(sandbox)
    SandboxControl.objects.update_or_create(pk=1, defaults={"clock_offset_seconds": timedelta(minutes=5).total_seconds()})

    assert exchange_code(sandbox, code).json()["error"] == "invalid_grant"


def test_an_unregistered_redirect_uri_gets_an_error_page_and_no_redirect(sandbox):
    response = requests.get(authorize_url(sandbox, redirect_uri="https://evil.example/callback"),
                            allow_redirects=False, timeout=10)

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "redirect_uri is not registered" in response.text


def test_an_unknown_client_id_gets_an_error_page(sandbox):
    response = requests.get(authorize_url(sandbox, client_id="00000000-0000-4000-8000-000000000000"),
                            allow_redirects=False, timeout=10)

    assert response.status_code == 400
    assert "not a known integration key" in response.text


@pytest.mark.parametrize("pkce", [{"code_challenge": VERIFIER, "code_challenge_method": "plain"},
                                  {"code_challenge": CHALLENGE}])
def test_plain_pkce_is_refused_at_the_redirect_uri(sandbox, pkce):
    response = requests.get(authorize_url(sandbox, **pkce), allow_redirects=False, timeout=10)

    assert response.status_code == 302
    params = redirect_params(response)
    assert params["error"] == ["invalid_request"] and "code" not in params
    assert params["state"] == ["st-123"]


def test_an_unknown_scope_is_refused_at_the_redirect_uri(sandbox):
    response = requests.get(authorize_url(sandbox, scope="signature everything"), allow_redirects=False, timeout=10)

    assert redirect_params(response)["error"] == ["invalid_scope"]


def test_declining_redirects_with_access_denied_and_the_state(sandbox):
    with requests.Session() as session:
        page = sign_in(session, session.get(authorize_url(sandbox), timeout=10), "system@acme.example")
        response = decide(session, page, "decline")

    params = redirect_params(response)
    assert params["error"] == ["access_denied"] and params["error_description"]
    assert params["state"] == ["st-123"] and "code" not in params


def test_a_wrong_password_shows_the_sign_in_page_again(sandbox):
    with requests.Session() as session:
        page = session.get(authorize_url(sandbox), timeout=10)
        response = sign_in(session, page, "system@acme.example", password="wrong")

    assert response.status_code == 401
    assert "The email or password is incorrect." in response.text


def test_the_consent_page_is_skipped_when_consent_already_covers_the_scopes(sandbox):
    with requests.Session() as session:
        page = session.get(authorize_url(sandbox, scope="signature impersonation"), timeout=10)
        response = sign_in(session, page, "sender@initech.example")  # seeded with individual consent

    assert response.status_code == 302
    assert redirect_params(response)["code"]


def test_a_signed_in_user_is_not_asked_to_sign_in_again_unless_prompt_login(sandbox):
    with requests.Session() as session:
        sign_in(session, session.get(authorize_url(sandbox, scope="signature impersonation"), timeout=10),
                "sender@initech.example")

        silent = session.get(authorize_url(sandbox, scope="signature impersonation"), allow_redirects=False, timeout=10)
        forced = session.get(authorize_url(sandbox, scope="signature impersonation", prompt="login"),
                             allow_redirects=False, timeout=10)

    assert silent.status_code == 302 and redirect_params(silent)["code"]
    assert forced.status_code == 200 and 'name="password"' in forced.text
    assert csrf_token(forced)
