"""Journey 3 in a real browser: invitation -> password -> checklist -> Connect to DocuSign -> choose the account."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core import mail

from docusign_sandbox.models import IntegrationKey, RedirectURI
from tenants import services
from tenants.models import MembershipRole
from tests import factories

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PASSWORD = "a-long-portal-passphrase-7"


@pytest.mark.browser
def test_a_client_admin_joins_connects_to_docusign_and_chooses_the_second_account(live_server, sandbox, settings, page):  # noqa: F811
    # The portal answers on live_server (localhost) and DocuSign on the sandbox (127.0.0.1): two sites, two cookie jars.
    settings.DOCUSIGN_REDIRECT_URI = f"{live_server.url}/docusign/callback/"
    RedirectURI.objects.create(integration_key=IntegrationKey.objects.get(client_id=settings.DOCUSIGN_INTEGRATION_KEY),
                               uri=settings.DOCUSIGN_REDIRECT_URI)
    organization = factories.organization("Globex")
    services.invitation_send(acting_user=factories.isv_staff(), organization=organization,
                             email="it.admin@globex.example", role=MembershipRole.ADMIN)
    body = mail.outbox[-1].body
    link = body[body.index("/onboarding/invitations/"):].split()[0]

    page.goto(live_server.url + link)
    page.get_by_label("Portal password", exact=True).fill(PASSWORD)
    page.get_by_label("Portal password again").fill(PASSWORD)
    page.get_by_role("button", name="Accept the invitation").click()
    page.get_by_role("heading", name="Globex: connecting to DocuSign").wait_for()

    page.get_by_role("button", name="Connect to DocuSign").click()
    page.wait_for_url(f"{sandbox.url}/oauth/auth?**")
    page.locator("#email").fill("multi@globex.example")
    page.locator("#password").fill(sandbox.user("multi@globex.example")["password"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow").click()

    page.wait_for_url(f"{live_server.url}/onboarding/{organization.slug}/account/")
    assert page.get_by_role("row", name="Globex HR").get_by_text("Default").is_visible()
    page.get_by_label("Globex General").check()
    page.get_by_role("button", name="Use this account").click()

    page.wait_for_url(f"{live_server.url}/onboarding/{organization.slug}/")
    connect_step, account_step = page.locator("#step-connect"), page.locator("#step-account")
    assert connect_step.locator(".status").inner_text() == "Connected"
    assert "Globex General" in account_step.inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "onboarding-connected.png"), full_page=True)
    organization.refresh_from_db()
    assert organization.account_name == "Globex General"
