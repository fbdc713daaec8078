"""Fixtures for the onboarding tests: the sandbox, the personas, and driving "Connect to DocuSign" as a person would."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from docusign_sandbox.models import RequestLog
from tenants.models import ClientMembership, MembershipRole
from tests import factories
from tests.sandbox import follow_see_other

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _csrf(page: requests.Response) -> str:
    match = CSRF.search(page.text)
    assert match, f"no form on {page.url} ({page.status_code})"
    return match.group(1)


@pytest.fixture
def people(db) -> factories.Personas:
    return factories.personas()


@pytest.fixture
def admin_client(people) -> Client:
    client = Client()
    client.force_login(people.admin_a)
    return client


def member_of(organization, username: str = "member-a"):
    person = factories.user(username)
    ClientMembership.objects.create(user=person, organization=organization, role=MembershipRole.MEMBER)
    return person


def token_requests() -> int:
    """POST /oauth/token requests the sandbox has answered so far."""
    return RequestLog.objects.filter(method="POST", path="/oauth/token").count()


class DocuSignBrowser:
    """The person's browser on DocuSign's (the sandbox's) pages; records every URL and page it saw."""

    def __init__(self, sandbox) -> None:
        self.sandbox, self.session, self.seen = sandbox, requests.Session(), []

    def approve(self, authorize_url: str, email: str, *, decision: str = "approve") -> dict[str, str]:
        """Sign in as `email`, decide on the consent page; return the query of the redirect back (code, state, ...)."""
        page = self._keep(self.session.get(authorize_url))
        page = self._keep(follow_see_other(self.session, self.session.post(page.url, allow_redirects=False, data={
            "csrfmiddlewaretoken": _csrf(page), "step": "sign_in", "email": email,
            "password": self.sandbox.user(email)["password"]})))
        if page.status_code == 200:  # the consent page (skipped when consent already covers the scopes)
            page = self._keep(follow_see_other(self.session, self.session.post(page.url, allow_redirects=False, data={
                "csrfmiddlewaretoken": _csrf(page), "step": "consent", "decision": decision})))
        assert page.status_code == 302, page.status_code
        self.seen.append(page.headers["Location"])
        return {k: v[0] for k, v in parse_qs(urlsplit(page.headers["Location"]).query).items()}

    def _keep(self, response: requests.Response) -> requests.Response:
        self.seen += [response.url, response.text, *(c.value for c in self.session.cookies)]
        return response


def start_connect(client: Client, slug: str) -> str:
    """Press "Connect to DocuSign" on the checklist; return DocuSign's authorization URL it redirects to."""
    response = client.post(f"/onboarding/{slug}/connect/")
    assert response.status_code == 302, response.status_code
    return response["Location"]


def connect(client: Client, sandbox, slug: str, email: str) -> tuple[dict[str, str], object]:
    """The whole "Connect to DocuSign" round trip; returns DocuSign's redirect query and the portal's callback response."""
    query = DocuSignBrowser(sandbox).approve(start_connect(client, slug), email)
    return query, client.get("/docusign/callback/", query)
