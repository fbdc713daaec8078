"""docs/security.md DP-2 and F11: every response of the production profile carries the hardening headers.

The security settings are read from portal/settings/ evaluated with DEBUG=False in a fresh interpreter (the
production profile as deployed), then every GET route is crawled over HTTPS as each role, plus a 404, the Connect
listener's 405 and a 500 (a DocuSign call failing in an unexpected way). `check --deploy` for the same profile
(docs/security.md DP-1) is tests/test_settings_checks.py. CSP forbids inline styles and scripts, so no page may contain them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from django.test import Client

from docusign_integration.client import http
from tests import factories
from tests.security.conftest import ROLES
from tests.security.crawl import Visit, body_of, crawl

ROOT = Path(__file__).resolve().parents[2]
SECURITY_SETTINGS = (
    "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_HTTPONLY", "X_FRAME_OPTIONS", "SECURE_REFERRER_POLICY", "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "SECURE_CONTENT_TYPE_NOSNIFF",
)
NO_STORE = ("/onboarding/", "/admin/", "/docusign/", "/accounts/")
SAFE_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
TAG = re.compile(r"<[a-zA-Z][^>]*>")
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


@pytest.fixture(scope="module")
def production_security_settings() -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_", "SESSION_", "CSRF_"))}
    env.update({"DEBUG": "False", "PORTAL_ENCRYPTION_KEYS": "dGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY="})
    script = f"import json, portal.settings as s; print(json.dumps({{n: getattr(s, n) for n in {SECURITY_SETTINGS!r}}}))"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
                            check=True)
    return json.loads(result.stdout)


@pytest.fixture
def production(settings, production_security_settings) -> None:
    settings.DEBUG = False
    for name, value in production_security_settings.items():
        setattr(settings, name, value)


def header_problems(path: str, response) -> list[str]:
    problems = []
    hsts = response.headers.get("Strict-Transport-Security", "")
    match = re.search(r"max-age=(\d+)", hsts)
    if not match or int(match.group(1)) < 31_536_000 or "includeSubDomains" not in hsts:
        problems.append(f"HSTS {hsts!r}")
    csp = response.headers.get("Content-Security-Policy", "")
    problems += [f"CSP lacks {d}" for d in ("frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'") if d not in csp]
    expected = {"X-Content-Type-Options": "nosniff", "Cross-Origin-Opener-Policy": "same-origin", "X-Frame-Options": "DENY"}
    problems += [f"{name} {response.headers.get(name)!r}" for name, value in expected.items()
                 if response.headers.get(name) != value]
    if response.headers.get("Referrer-Policy") not in SAFE_REFERRER_POLICIES:
        problems.append(f"Referrer-Policy {response.headers.get('Referrer-Policy')!r}")
    if path.startswith(NO_STORE) and "no-store" not in response.headers.get("Cache-Control", ""):
        problems.append(f"Cache-Control {response.headers.get('Cache-Control')!r}")
    return problems


def inline_code(body: bytes, content_type: str) -> list[str]:
    """Inline styles, <style> blocks, inline event handlers and executable inline scripts: all blocked by the CSP."""
    if not content_type.startswith("text/html"):
        return []
    found = []
    for tag in TAG.findall(body.decode("utf-8", "replace")):
        lowered = tag.lower()
        styled = " style=" in lowered or lowered.startswith("<style")
        script = lowered.startswith("<script") and "src=" not in lowered and 'type="application/json"' not in lowered
        if styled or script or INLINE_HANDLER.search(tag):
            found.append(tag)
    return found


def cookie_problems(response) -> list[str]:
    problems = []
    for name, morsel in SimpleCookie(response.cookies.output(header="", sep="\n")).items():
        if morsel["max-age"] == 0 or morsel.value == "":
            continue  # a deletion
        missing = [flag for flag in ("secure", "httponly", "samesite") if not morsel[flag]]
        problems += [f"cookie {name} lacks {flag}" for flag in missing]
    return problems


def extra_responses(world) -> list[Visit]:
    """A 404, the listener's 405, a 500 from an unexpected failure, and the sign-in that sets the session cookie."""
    visits = []
    for role in ("anonymous", "admin_a"):
        client = world.client(role)
        for url in ("/onboarding/no-such-organization/", "/no-such-page/", "/docusign/connect/"):
            response = client.get(url, secure=True)
            visits.append(Visit(role, None, url, response, body_of(response)))
    signing_in = Client()
    login_page = signing_in.get("/accounts/login/", secure=True)
    signed_in = signing_in.post("/accounts/login/", {"username": "admin-a", "password": factories.PASSWORD}, secure=True)
    assert signed_in.status_code == 302 and "sessionid" in signed_in.cookies
    visits += [Visit("anonymous", None, "/accounts/login/", r, body_of(r)) for r in (login_page, signed_in)]
    return visits


def server_error(world, monkeypatch) -> Visit:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("connection pool is in an inconsistent state")

    monkeypatch.setattr(http.session, "request", broken)
    client = world.client("admin_a", raise_request_exception=False)
    url = f"/onboarding/{world.org_a.slug}/account/"
    response = client.post(url, {"account_id": world.org_a.account_id}, secure=True)
    assert response.status_code == 500
    return Visit("admin_a", None, url, response, body_of(response))


def test_every_response_of_the_production_profile_is_hardened(world, production, monkeypatch):
    visits = [*crawl(world, ROLES, extra={"secure": True}), *extra_responses(world), server_error(world, monkeypatch)]
    problems = []
    for visit in visits:
        found = header_problems(visit.url, visit.response) + cookie_problems(visit.response)
        found += [f"inline code {tag}" for tag in inline_code(visit.body, visit.response.get("Content-Type", ""))]
        problems += [f"{visit}: {problem}" for problem in found]

    statuses = {visit.response.status_code for visit in visits}
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(sorted(set(problems)))
    assert {200, 302, 403, 404, 405, 500} <= statuses
    print(f"F11: {len(visits)} responses ({len({v.url for v in visits})} URLs x roles), 100% carry the headers")


def test_session_and_csrf_cookies_are_secure_httponly_and_samesite(world, production):
    client = Client()
    form = client.get("/accounts/login/", secure=True)
    signed_in = client.post("/accounts/login/", {"username": "admin-a", "password": factories.PASSWORD}, secure=True)

    csrf, session = form.cookies["csrftoken"], signed_in.cookies["sessionid"]
    for cookie in (csrf, session):
        assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] in ("Lax", "Strict"), cookie.output()


@pytest.mark.parametrize("changelist", ["tenants/clientorganization", "docusign_integration/envelope",
                                        "docusign_integration/signeddocument", "docusign_integration/connectevent"])
def test_admin_badges_are_classes_styled_by_the_attached_stylesheet(world, changelist):
    page = world.client("superuser").get(f"/admin/{changelist}/").content.decode()

    assert re.search(r'class="(badge badge|state state)-[a-z]+"', page)
    assert "/static/admin_badges.css" in page
