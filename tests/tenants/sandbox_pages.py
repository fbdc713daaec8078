"""Driving the sandbox's real DocuSign pages with requests, as a person in a browser would."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from django.test import Client

from tests.sandbox import follow_see_other

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _csrf(page: requests.Response) -> str:
    match = CSRF.search(page.text)
    assert match, f"no form on {page.url} ({page.status_code})"
    return match.group(1)


def approve_consent(portal: Client, sandbox: Any, slug: str, kind: str, email: str, *,
                    decision: str = "approve") -> dict[str, str]:
    """Start consent in the portal, sign in to the sandbox as `email`, decide; return the redirect's query (code, state...)."""
    start = portal.get(f"/docusign/consent/{slug}/{kind}/")
    assert start.status_code == 302, start.status_code
    browser = requests.Session()
    page = browser.get(start["Location"])
    page = follow_see_other(browser, browser.post(page.url, allow_redirects=False, data={
        "csrfmiddlewaretoken": _csrf(page), "step": "sign_in", "email": email, "password": sandbox.user(email)["password"]}))
    if page.status_code == 200:  # the consent page; DocuSign skips it when consent already covers the scopes
        page = follow_see_other(browser, browser.post(page.url, allow_redirects=False, data={
            "csrfmiddlewaretoken": _csrf(page), "step": "consent", "decision": decision}))
    assert page.status_code == 302, page.status_code
    return {k: v[0] for k, v in parse_qs(urlsplit(page.headers["Location"]).query).items()}


def revoke_individual(sandbox: Any, email: str) -> None:
    """The user revokes the ISV's app on the sandbox's Connected apps page."""
    browser = _signed_in(sandbox, email)
    page = browser.get(f"{sandbox.url}/me/connected-apps")
    browser.post(f"{sandbox.url}/me/connected-apps/{sandbox.seed['integration_key']}/revoke",
                 data={"csrfmiddlewaretoken": _csrf(page)}).raise_for_status()


def revoke_organization(sandbox: Any, email: str, organization_id: str) -> None:
    """An organization admin revokes the organization-wide consent on the organization's Connected apps page."""
    browser = _signed_in(sandbox, email)
    base = f"{sandbox.url}/organizations/{organization_id}/connected-apps"
    page = browser.get(base)
    browser.post(f"{base}/{sandbox.seed['integration_key']}/revoke", data={"csrfmiddlewaretoken": _csrf(page)}).raise_for_status()


def _signed_in(sandbox: Any, email: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{sandbox.url}/login")
    browser.post(f"{sandbox.url}/login", data={"csrfmiddlewaretoken": _csrf(page), "email": email, "next": "/me/connected-apps",
                                               "password": sandbox.user(email)["password"]}).raise_for_status()
    return browser
