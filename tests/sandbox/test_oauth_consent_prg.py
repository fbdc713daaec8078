"""The consent page follows POST/redirect/GET, so the browser's back button never resubmits a form.

Signing in and pressing Allow each answer 303 to `GET /oauth/auth` with the same request; that GET then does what
DocuSign does for a signed-in user whose consent covers the scopes: redirect to redirect_uri with code and state
(docs/docusign.md §3.1, §4). What the client receives is unchanged.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from tests.sandbox import authorize_url, csrf_token, exchange_code, redirect_params

pytestmark = pytest.mark.django_db(transaction=True)

VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
PKCE = {"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"}


def _post(session: requests.Session, page: requests.Response, **fields: str) -> requests.Response:
    return session.post(page.url, data={"csrfmiddlewaretoken": csrf_token(page), **fields}, allow_redirects=False,
                        timeout=10)


def _is_authorize_get(response: requests.Response, start: str) -> bool:
    location = urljoin(response.url, response.headers["Location"])
    return (urlsplit(location).path == "/oauth/auth"
            and parse_qs(urlsplit(location).query) == parse_qs(urlsplit(start).query))


def test_signing_in_answers_303_to_the_consent_page_as_a_get(sandbox):
    start = authorize_url(sandbox, state="st-9", **PKCE)
    with requests.Session() as session:
        signed_in = _post(session, session.get(start, timeout=10), step="sign_in", email="system@acme.example",
                          password="sandbox-password-1")
        consent_page = session.get(urljoin(start, signed_in.headers["Location"]), allow_redirects=False, timeout=10)

    assert signed_in.status_code == 303 and _is_authorize_get(signed_in, start)
    assert consent_page.status_code == 200 and "Allow access?" in consent_page.text


def test_allowing_answers_303_then_the_get_redirects_to_redirect_uri_with_a_code_and_the_state(sandbox):
    start = authorize_url(sandbox, state="st-9", **PKCE)
    with requests.Session() as session:
        signed_in = _post(session, session.get(start, timeout=10), step="sign_in", email="system@acme.example",
                          password="sandbox-password-1")
        consent_page = session.get(urljoin(start, signed_in.headers["Location"]), timeout=10)
        allowed = _post(session, consent_page, step="consent", decision="approve")
        back_to_client = session.get(urljoin(start, allowed.headers["Location"]), allow_redirects=False, timeout=10)

    assert allowed.status_code == 303 and _is_authorize_get(allowed, start)
    assert back_to_client.status_code == 302
    assert back_to_client.headers["Location"].startswith(sandbox.seed["redirect_uris"][0] + "?")
    params = redirect_params(back_to_client)
    assert params["state"] == ["st-9"]
    assert exchange_code(sandbox, params["code"][0], code_verifier=VERIFIER).status_code == 200


def test_organization_admin_consent_answers_303_too(sandbox):
    start = authorize_url(sandbox, scope="openid", admin_consent_scope="signature impersonation")
    with requests.Session() as session:
        signed_in = _post(session, session.get(start, timeout=10), step="sign_in", email="admin@acme.example",
                          password="sandbox-password-1")
        consent_page = session.get(urljoin(start, signed_in.headers["Location"]), timeout=10)
        assert "Allow access for your organization?" in consent_page.text
        allowed = _post(session, consent_page, step="consent", decision="approve")
        back_to_client = session.get(urljoin(start, allowed.headers["Location"]), allow_redirects=False, timeout=10)

    assert allowed.status_code == 303 and _is_authorize_get(allowed, start)
    assert back_to_client.status_code == 302 and redirect_params(back_to_client)["code"]


def test_prompt_login_asks_once_then_the_303_does_not_ask_again(sandbox):
    start = authorize_url(sandbox, scope="signature impersonation", prompt="login")
    with requests.Session() as session:
        signed_in = _post(session, session.get(start, timeout=10), step="sign_in", email="sender@initech.example",
                          password="sandbox-password-1")
        after = session.get(urljoin(start, signed_in.headers["Location"]), allow_redirects=False, timeout=10)

    assert signed_in.status_code == 303
    assert after.status_code == 302 and redirect_params(after)["code"]  # consent was seeded: straight back
