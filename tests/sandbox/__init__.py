"""Tests of the DocuSign sandbox itself, spoken to over loopback HTTP like a real client would.

Helpers shared by the sandbox's tests: JWT assertions signed with the seeded key, and a browser-like walk
through the account server's sign-in and consent pages with requests.Session.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import jwt
import requests

from tests.sandbox_harness import SandboxInfo, running_sandbox  # noqa: E402,F401  (re-exported)

JWT_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def assertion(sandbox, *, key_pem: str | bytes | None = None, omit: tuple[str, ...] = (), **claims: object) -> str:
    """A JWT assertion as DocuSign's SDKs build it, for the seeded integration key and `sub` (overridable)."""
    now = int(time.time())
    body = {"iss": sandbox.seed["integration_key"], "sub": sandbox.user("sender")["user_id"],
            "aud": sandbox.seed["oauth_host"], "iat": now, "exp": now + 3600, "scope": "signature impersonation"}
    body.update(claims)
    for name in omit:
        body.pop(name)
    if key_pem is None:
        key_pem = Path(sandbox.seed["private_key_path"]).read_bytes()
    return jwt.encode(body, key_pem, algorithm="RS256")


def jwt_grant(sandbox, token: str) -> requests.Response:
    return requests.post(f"{sandbox.url}/oauth/token", data={"grant_type": JWT_GRANT_TYPE, "assertion": token}, timeout=10)


def authorize_url(sandbox, **params: str) -> str:
    query = {"response_type": "code", "scope": "signature", "client_id": sandbox.seed["integration_key"],
             "redirect_uri": sandbox.seed["redirect_uris"][0], "state": "st-123", **params}
    return f"{sandbox.url}/oauth/auth?{urlencode(query)}"


def csrf_token(page: requests.Response) -> str:
    match = _CSRF.search(page.text)
    assert match, f"no form on the page: {page.status_code} {page.text[:300]}"
    return match.group(1)


def follow_see_other(session: requests.Session, response: requests.Response) -> requests.Response:
    """Follow the account server's own 303s (POST/redirect/GET) to the page or the redirect back to the client."""
    while response.status_code == 303:
        response = session.get(urljoin(response.url, response.headers["Location"]), allow_redirects=False, timeout=10)
    return response


def sign_in(session: requests.Session, page: requests.Response, email: str,
            password: str = "sandbox-password-1") -> requests.Response:
    """Submit the sign-in form shown on `page`; the 303 is followed, the redirect to the client is not."""
    return follow_see_other(session, session.post(page.url, data={
        "csrfmiddlewaretoken": csrf_token(page), "step": "sign_in", "email": email, "password": password},
        allow_redirects=False, timeout=10))


def decide(session: requests.Session, page: requests.Response, decision: str = "approve") -> requests.Response:
    """Press Allow or Decline on the consent page `page`; the 303 is followed, the redirect to the client is not."""
    return follow_see_other(session, session.post(page.url, data={
        "csrfmiddlewaretoken": csrf_token(page), "step": "consent", "decision": decision},
        allow_redirects=False, timeout=10))


def consent_through_pages(sandbox, email: str, **params: str) -> dict[str, list[str]]:
    """Sign in as `email` and approve; the query parameters the client's redirect_uri receives."""
    with requests.Session() as session:  # closed: no kept-alive connection outlives the test
        page = session.get(authorize_url(sandbox, **params), timeout=10)
        page = sign_in(session, page, email)
        if page.status_code == 200:  # the consent page; skipped when consent already covers the scopes
            page = decide(session, page)
    assert page.status_code == 302, page.text[:500]
    return redirect_params(page)


def exchange_code(sandbox, code: str, *, secret: str | None = None, public: bool = False,
                  **fields: str) -> requests.Response:
    """`grant_type=authorization_code` with Basic client authentication, or as a public client (client_id only)."""
    data = {"grant_type": "authorization_code", "code": code, **fields}
    auth = None
    if public:
        data["client_id"] = sandbox.seed["integration_key"]
    else:
        auth = (sandbox.seed["integration_key"], secret or sandbox.seed["client_secret"])
    return requests.post(f"{sandbox.url}/oauth/token", data=data, auth=auth, timeout=10)


def refresh(sandbox, refresh_token: str) -> requests.Response:
    return requests.post(f"{sandbox.url}/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                         auth=(sandbox.seed["integration_key"], sandbox.seed["client_secret"]), timeout=10)


def userinfo(sandbox, access_token: str) -> requests.Response:
    return requests.get(f"{sandbox.url}/oauth/userinfo", headers={"Authorization": f"Bearer {access_token}"}, timeout=10)


def redirect_params(response: requests.Response) -> dict[str, list[str]]:
    return parse_qs(urlsplit(response.headers["Location"]).query)
