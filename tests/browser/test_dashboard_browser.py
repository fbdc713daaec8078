"""Journey 8 in a real browser: staff open the dashboard from the admin index and drill into a health page.

The data comes from the product's own flows against the sandbox: three organizations provisioned, one consented
on the sandbox's pages, its account set up (a Connect configuration pointing at the live listener), an envelope
completed in DocuSign whose Connect messages the sandbox delivers, and one message for an account no client has.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from django.test import Client

from docusign_integration.client import http
from docusign_integration.connect.hmac import signature
from docusign_integration.setup.account_setup import account_setup_push
from docusign_sandbox.models import ConnectDelivery, IntegrationKey, RedirectURI
from tenants.models import ClientOrganization
from tests import factories
from tests.connect.sandbox_world import import_partner_keys
from tests.dashboard.conftest import connect_message
from tests.envelopes.conftest import docusign_envelope

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
UNKNOWN_ACCOUNT = "7d2f4a10-3b6c-4e8d-9a1f-5c6b7d8e9f01"


@pytest.fixture
def sandbox(page, sandbox):
    """The sandbox started after the browser: Playwright's sync API switches context, and the sandbox must share the
    database connection of the context the test runs in (its Connect sender thread uses it). The portal's keep-alive
    connections are closed before the server stops, so no request thread of it outlives that connection.
    """
    yield sandbox
    http.session.close()


def sign_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])


def give_consent_in_the_sandbox(page, live_server, sandbox, organization: ClientOrganization, email: str) -> None:
    """Staff open the individual consent link; the system user signs in to DocuSign and allows the app."""
    page.goto(f"{live_server.url}/docusign/consent/{organization.slug}/individual/")
    page.wait_for_url(f"{sandbox.url}/**")
    page.locator("#email").fill(email)
    page.locator("#password").fill(sandbox.user(email)["password"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{live_server.url}/admin/**")


@pytest.mark.browser
def test_staff_see_counts_the_attention_list_and_deliveries_then_an_organization_health(page, live_server, sandbox,
                                                                                       settings):
    settings.PORTAL_BASE_URL = live_server.url  # the Connect configuration the push makes publishes here
    settings.DOCUSIGN_REDIRECT_URI = f"{live_server.url}/docusign/callback/"
    RedirectURI.objects.create(integration_key=IntegrationKey.objects.get(client_id=settings.DOCUSIGN_INTEGRATION_KEY),
                               uri=settings.DOCUSIGN_REDIRECT_URI)
    partner_secret = sandbox.seed["hmac_keys"][0]["secret"]
    import_partner_keys(sandbox.seed)
    staff = factories.isv_staff()
    acme = factories.organization("Acme", system_user_id=sandbox.user("admin@acme.example")["user_id"],
                                  system_user_email="admin@acme.example")
    factories.organization("Globex")
    factories.organization("Initech")
    sign_in(page, live_server, staff)

    give_consent_in_the_sandbox(page, live_server, sandbox, acme, "admin@acme.example")
    acme.refresh_from_db()
    account_setup_push(acting_user=staff, organization=acme)
    docusign_envelope(acme.account_id, status="completed")
    requests.post(f"{sandbox.url}/_sandbox/connect/flush", json={"timeout": 10}, timeout=15).raise_for_status()
    delivered = ConnectDelivery.objects.filter(account__account_id=acme.account_id, status="delivered").count()
    body, headers = connect_message(UNKNOWN_ACCOUNT)
    headers["X-DocuSign-Signature-1"] = signature(partner_secret, body)  # signed with the sandbox partner's key
    assert requests.post(f"{live_server.url}/docusign/connect/", data=body, headers=headers, timeout=5).status_code == 200

    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    page.get_by_role("heading", name="Dashboard").wait_for()
    by_health = page.locator(".module", has=page.get_by_role("heading", name="Organizations by health"))
    assert by_health.get_by_role("row", name=re.compile(r"^OK ")).locator(".count").inner_text() == "1"
    assert by_health.get_by_role("row", name="Needs attention").locator(".count").inner_text() == "2"
    assert by_health.get_by_role("row", name="All organizations").locator(".count").inner_text() == "3"
    attention = page.locator("#attention")
    assert attention.get_by_role("heading").inner_text() == "Needs attention now (2)"
    assert attention.locator("tbody th").all_inner_texts() == ["Globex", "Initech"]
    assert "system@globex.example a consent link" in attention.get_by_role("row", name=re.compile("Globex")).inner_text()
    bars = page.locator("#deliveries g.hour")
    assert bars.count() == 24 and delivered >= 6  # sent, delivered and completed, for the envelope and its signer
    assert bars.last.get_attribute("data-count") == str(delivered + 1)
    assert bars.last.locator("rect.bar").is_visible() and bars.last.locator("rect.bar-quarantined").is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/tenants/clientorganization/")
    page.get_by_role("row", name=re.compile("Acme")).get_by_role("link", name="Health").click()
    page.get_by_role("heading", name="Health of Acme").wait_for()
    assert page.locator(".overall .health-badge").inner_text() == "OK"
    checks = page.locator(".health-topics")
    assert checks.get_by_role("row", name=re.compile("Connect configuration")).locator(".health-badge").inner_text() == "OK"
    assert f"{delivered} received, 0 quarantined" in page.locator(".facts").inner_text()
    assert "account_setup.push" in page.locator("#audit").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "health.png"), full_page=True)
