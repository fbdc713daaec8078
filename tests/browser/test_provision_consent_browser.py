"""Journeys 1 and 2 in a real browser: staff provision a client and invite its admin; the system user's consent is
given on the sandbox's own pages (individually, or by the DocuSign organization admin), refused, or cancelled.

Staff sign in on the admin's login page and work through the admin's pages and actions; the person who consents
signs in on the sandbox's pages. The portal answers on live_server (localhost), DocuSign on the sandbox
(127.0.0.1): two sites, two cookie jars.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core import mail

from docusign_integration.client import http
from docusign_integration.oauth.account_server import UserAccount
from docusign_sandbox.models import ClaimedDomain, IntegrationKey, Organization, RedirectURI, User
from docusign_sandbox.seed import ACME, ACME_ORG_ID
from tenants.models import ClientOrganization, ConsentStatus
from tenants.services import account_choose
from tests import factories

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CHANGELIST = "/admin/tenants/clientorganization/"
PORTAL_PASSWORD = "a-long-portal-passphrase-7"


@pytest.fixture
def sandbox(page, sandbox):
    """The sandbox started after the browser (see test_dashboard_browser). The browser is closed before the sandbox
    stops: its keep-alive connections would otherwise hold the sandbox's request threads for seconds."""
    yield sandbox
    page.context.close()
    http.session.close()


@pytest.fixture
def portal(live_server, sandbox, settings):
    """The portal on live_server, registered at the sandbox with its one redirect URI."""
    settings.DOCUSIGN_REDIRECT_URI = f"{live_server.url}/docusign/callback/"
    RedirectURI.objects.create(integration_key=IntegrationKey.objects.get(client_id=settings.DOCUSIGN_INTEGRATION_KEY),
                               uri=settings.DOCUSIGN_REDIRECT_URI)
    return live_server


def staff_sign_in(page, portal) -> None:
    """ISV staff sign in on the admin's own login page."""
    staff = factories.isv_staff()
    page.goto(f"{portal.url}/admin/")
    page.get_by_label("Username").fill(staff.username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Log out").or_(page.get_by_role("button", name="Log out")).wait_for()


def run_action(page, portal, organization_name: str, action: str) -> None:
    """On the organizations list, select one organization and run an admin action on it."""
    page.goto(f"{portal.url}{CHANGELIST}")
    page.get_by_role("row", name=re.compile(organization_name)).get_by_role("checkbox").check()
    page.locator("select[name=action]").select_option(label=action)
    page.get_by_role("button", name="Go").click()


def consent_badge(page, portal, organization_name: str) -> str:
    page.goto(f"{portal.url}{CHANGELIST}")
    return page.get_by_role("row", name=re.compile(organization_name)).locator("td.field-consent").inner_text().strip()


def open_consent_link(page, portal, organization_name: str, title: str) -> None:
    """Staff open the organization's consent link from the admin's "Show consent links" page."""
    run_action(page, portal, organization_name, "Show consent links")
    page.get_by_role("heading", name=f"Consent links for {organization_name}").wait_for()
    page.locator(".consent-links li", has_text=title).get_by_role("link").click()


def sign_in_at_docusign(page, sandbox, email: str) -> None:
    page.wait_for_url(f"{sandbox.url}/oauth/auth?**")
    page.locator("#email").fill(email)
    page.locator("#password").fill(sandbox.user(email)["password"])
    page.get_by_role("button", name="Sign in").click()


def start_consent(page, portal, sandbox, title: str, *, as_email: str) -> ClientOrganization:
    """Acme is provisioned with its system user; staff open its consent link; `as_email` signs in at DocuSign."""
    seeded = sandbox.user("system@acme.example")
    acme = factories.organization("Acme", system_user_id=seeded["user_id"], system_user_email=seeded["email"])
    staff_sign_in(page, portal)
    open_consent_link(page, portal, "Acme", title)
    sign_in_at_docusign(page, sandbox, as_email)
    return acme


def back_at_the_organization(page, portal) -> None:
    """DocuSign sent the browser back through the portal's callback to the organization's admin page."""
    page.wait_for_url(f"{portal.url}{CHANGELIST}*/change/")


def message(page) -> str:
    """The admin's message after DocuSign sent the browser back to the organization's page."""
    return page.locator("ul.messagelist li").first.text_content().strip()


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def system_user(name: str):
    return ClientOrganization.objects.select_related("system_user").get(name=name).system_user


@pytest.mark.browser
def test_staff_provision_an_organization_invite_its_admin_who_sees_the_checklist(page, portal, sandbox):
    seeded = sandbox.user("system@acme.example")
    staff_sign_in(page, portal)

    page.goto(f"{portal.url}{CHANGELIST}")
    page.get_by_role("link", name="Add client organization").click()
    page.get_by_label("Name").fill("Acme")
    page.get_by_label("Environment").select_option("sandbox")
    page.get_by_label("System user's DocuSign user id (GUID)").fill(seeded["user_id"])
    page.get_by_label("System user's email").fill(seeded["email"])
    page.get_by_role("button", name="Provision").click()
    assert message(page) == "Provisioned Acme. Next: invite a client admin."
    assert consent_badge(page, portal, "Acme") == "Unknown"

    run_action(page, portal, "Acme", "Send invitation")
    page.get_by_role("heading", name="Invite to Acme").wait_for()
    page.get_by_label("Email").fill("it.admin@acme.example")
    page.get_by_role("button", name="Send invitation").click()
    assert message(page) == "Invitation sent to it.admin@acme.example."
    assert [m.to for m in mail.outbox] == [["it.admin@acme.example"]]
    body = mail.outbox[-1].body
    link = portal.url + body[body.index("/onboarding/invitations/"):].split()[0]

    # The client admin opens the email on their own computer: no staff session there.
    client_admin = page.context.browser.new_context().new_page()
    client_admin.goto(link)
    client_admin.get_by_label("Portal password", exact=True).fill(PORTAL_PASSWORD)
    client_admin.get_by_label("Portal password again").fill(PORTAL_PASSWORD)
    client_admin.get_by_role("button", name="Accept the invitation").click()
    client_admin.get_by_role("heading", name="Acme: connecting to DocuSign").wait_for()
    assert client_admin.locator("#step-consent .status").inner_text() == "To do"
    assert client_admin.locator("#step-connect .status").inner_text() == "To do"
    screenshot(client_admin, "provision-checklist.png")
    client_admin.context.close()


@pytest.mark.browser
@pytest.mark.usefixtures("eager_celery")
def test_the_system_user_gives_individual_consent_and_a_consent_check_keeps_it_granted(page, portal, sandbox):
    start_consent(page, portal, sandbox, "Individual consent", as_email="system@acme.example")
    page.get_by_role("heading", name="Allow access?").wait_for()
    assert page.locator("ul.scopes").inner_text().split() == ["impersonation", "signature"]
    page.get_by_role("button", name="Allow").click()

    back_at_the_organization(page, portal)
    assert message(page) == f"Consent granted for system@acme.example; DocuSign account {ACME.name} recorded."
    assert page.locator(".field-account_id .readonly").inner_text() == ACME.account_id
    assert page.locator("#system_user-0 .field-consent_type .readonly").inner_text() == "Individual consent"
    assert consent_badge(page, portal, "Acme") == "Granted"

    verified = system_user("Acme").checked_at
    run_action(page, portal, "Acme", "Check consent (in the background)")
    assert "Consent checks queued for 1 organization(s)" in message(page)
    screenshot(page, "consent-individual.png")
    assert consent_badge(page, portal, "Acme") == "Granted"
    assert system_user("Acme").checked_at > verified  # the check really asked DocuSign again


def globex_organization_admin() -> None:
    """Another DocuSign organization, Globex's, whose admin Morgan can approve admin consent for globex.example only."""
    globex = Organization.objects.create(name="Globex Org")
    globex.admins.add(User.objects.get(email="multi@globex.example"))
    ClaimedDomain.objects.create(domain="globex.example", organization=globex)


@pytest.mark.browser
def test_the_client_organization_admin_gives_admin_consent(page, portal, sandbox):
    start_consent(page, portal, sandbox, "Organization admin consent", as_email="admin@acme.example")
    assert "acme.example" in page.get_by_role("heading", name="Allow access for your organization?").locator("..").inner_text()
    page.get_by_role("button", name="Allow for my organization").click()

    back_at_the_organization(page, portal)
    assert message(page) == f"Consent granted for system@acme.example; DocuSign account {ACME.name} recorded."
    assert page.locator("#system_user-0 .field-consent_type .readonly").inner_text() == "Organization admin consent"
    assert page.locator(".field-organization_id .readonly").inner_text() == ACME_ORG_ID
    screenshot(page, "consent-organization-admin.png")  # the message on the organization's page
    assert consent_badge(page, portal, "Acme") == "Granted"


@pytest.mark.browser
def test_admin_consent_by_another_organizations_admin_is_refused_with_who_must_approve(page, portal, sandbox):
    globex_organization_admin()
    # First time, the portal does not know Acme's DocuSign organization yet: DocuSign's JWT grant answers.
    acme = start_consent(page, portal, sandbox, "Organization admin consent", as_email="multi@globex.example")
    page.get_by_role("button", name="Allow for my organization").click()
    back_at_the_organization(page, portal)
    assert "ask them (or their organization administrator) to grant consent" in message(page)
    assert consent_badge(page, portal, "Acme") == "Consent required"

    # Once Acme's organization is known (its client admin chose the Acme account), the portal names who must approve.
    account_choose(acting_user=factories.user("it-admin"), organization=acme, account=UserAccount(
        ACME.account_id, ACME.name, sandbox.url, is_default=True, organization_id=ACME_ORG_ID))
    open_consent_link(page, portal, "Acme", "Organization admin consent")
    page.get_by_role("button", name="Allow for my organization").click()  # still signed in at DocuSign as Morgan
    back_at_the_organization(page, portal)
    assert message(page) == ("The DocuSign user multi@globex.example is not an administrator of this client's "
                             "DocuSign organization. Ask the client's DocuSign organization admin to approve.")
    screenshot(page, "consent-organization-admin-refused.png")  # the message on the organization's page
    assert consent_badge(page, portal, "Acme") == "Consent required"


@pytest.mark.browser
def test_cancelling_on_the_consent_page_changes_nothing(page, portal, sandbox):
    start_consent(page, portal, sandbox, "Individual consent", as_email="system@acme.example")
    page.get_by_role("button", name="Decline").click()

    back_at_the_organization(page, portal)
    assert message(page) == "Consent was cancelled on DocuSign's page; nothing changed."
    screenshot(page, "consent-cancelled.png")  # the message on the organization's page
    assert consent_badge(page, portal, "Acme") == "Unknown"
    assert system_user("Acme").consent_status == ConsentStatus.UNKNOWN
