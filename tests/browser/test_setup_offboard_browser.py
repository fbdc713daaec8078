"""Journey 4 (Setup DocuSign account) and offboarding in a real browser, against the sandbox.

Staff run the admin action twice, see drift made in DocuSign (the sandbox) and push it away; a client admin who is a
DocuSign administrator sets the account up from the checklist; one who is not reads who must do it; then staff
offboard the organization and its client admin's checklist is gone. The drift check runs as beat runs it
(`account_setup_check_all`), its tasks in-process (eager_celery), as are the pushes the admin action queues.

The sandbox's console (/_sandbox/) is read-only, so drift is made the way tests/setup makes it: by changing what the
sandbox stores, as an administrator editing the account in DocuSign would. The console then shows the change.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from docusign_integration.setup.tasks import account_setup_check_all
from docusign_sandbox.models import Account, ConnectConfiguration, IntegrationKey, RedirectURI, RequestLog
from tenants.models import AuditEvent
from tests import factories
from tests.browser.docusign_pages import sign_in_and_allow
from tests.browser.test_dashboard_browser import sign_in

# The sandbox that closes the portal's keep-alive connections before it stops. It starts before the browser, so the
# browser's connections to it are closed before it stops too: no request thread is left to wait for.
from tests.setup.conftest import consented_organization, sandbox  # noqa: F401

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CHANGELIST = "/admin/tenants/clientorganization/"


@pytest.fixture
def portal(live_server, sandbox, settings):  # noqa: F811
    """The portal on live_server, registered as the integration key's redirect URI and as the Connect listener."""
    settings.PORTAL_BASE_URL = live_server.url
    settings.DOCUSIGN_REDIRECT_URI = f"{live_server.url}/docusign/callback/"
    RedirectURI.objects.create(integration_key=IntegrationKey.objects.get(client_id=settings.DOCUSIGN_INTEGRATION_KEY),
                               uri=settings.DOCUSIGN_REDIRECT_URI)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return live_server


@pytest.fixture
def second_browser(page):
    """A second person's browser: its own cookie jar, so staff and the client admin stay signed in side by side."""
    context = page.context.browser.new_context()
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def run_admin_action(page, portal, organization_name: str, action: str) -> None:
    """Tick one organization in the changelist and run an action on it."""
    page.goto(portal.url + CHANGELIST)
    page.get_by_role("row", name=re.compile(organization_name)).get_by_role("checkbox").check()
    page.locator("select[name=action]").select_option(label=action)
    page.get_by_role("button", name="Go").click()


def setup_badge(page, portal, organization_name: str):
    page.goto(portal.url + CHANGELIST)
    return page.get_by_role("row", name=re.compile(organization_name)).locator("td.field-setup_status .badge")


def connect_to_docusign(page, portal, sandbox, slug: str, email: str) -> None:  # noqa: F811
    """The client admin's "Connect to DocuSign" round trip on the sandbox's sign-in and approval pages."""
    page.goto(f"{portal.url}/onboarding/{slug}/")
    page.get_by_role("button", name="Connect to DocuSign").click()
    sign_in_and_allow(page, sandbox, email)
    page.wait_for_url(f"{portal.url}/onboarding/{slug}/")
    assert page.locator("#step-connect .status").inner_text() == "Connected"


def configurations_in_the_console(page, sandbox, account_name: str):  # noqa: F811
    """The rows of the sandbox console's Connect page for one account."""
    page.goto(f"{sandbox.url}/_sandbox/console/connect")
    first_table = page.locator("table").first
    return first_table.locator("tbody tr").filter(has=page.get_by_role("cell", name=account_name, exact=True))


@pytest.mark.browser
@pytest.mark.usefixtures("eager_celery")
def test_staff_set_up_acme_twice_fix_drift_its_admin_sets_up_from_the_checklist_then_staff_offboard_it(
        portal, sandbox, page, second_browser):  # noqa: F811
    acme = consented_organization(sandbox, "admin@acme.example", "Acme")  # its system user is an account administrator
    factories.organization("Globex")  # not consented: in the list, never selected
    page.set_viewport_size({"width": 1600, "height": 900})  # the changelist's columns, names to setup badges, fit
    sign_in(page, portal, factories.isv_staff())

    # 1. From the admin: the confirmation lists what will be pushed; confirming pushes it; the list says "In sync".
    run_admin_action(page, portal, "Acme", "Setup DocuSign account")
    page.get_by_role("heading", name="Setup DocuSign account").wait_for()
    assert page.get_by_role("heading", name="Organizations (1)").is_visible()
    assert "Acme — Acme Corp (Not checked)" in page.locator("#content ul").first.inner_text()
    connect_rows = page.locator("table", has=page.get_by_role("row", name=re.compile("urlToPublishTo")))
    assert f"{portal.url}/docusign/connect/" in connect_rows.get_by_role("row", name=re.compile("urlToPublishTo")).inner_text()
    assert "envelope-completed" in connect_rows.get_by_role("row", name=re.compile(r"^events")).inner_text()
    assert "Yes" in connect_rows.get_by_role("row", name=re.compile("includeHMAC")).inner_text()  # words, not "true"
    assert page.get_by_role("row", name=re.compile("attachCompletedEnvelope")).is_visible()  # an account setting
    assert not ConnectConfiguration.objects.filter(account__account_id=acme.account_id).exists()  # not before "Yes"
    page.get_by_role("button", name="Yes, set up 1 account(s)").click()
    assert "Setup DocuSign account queued for 1 organization(s)" in page.locator(".messagelist").inner_text()
    assert setup_badge(page, portal, "Acme").inner_text() == "In sync"
    assert setup_badge(page, portal, "Globex").inner_text() == "Not checked"

    run_admin_action(page, portal, "Acme", "Setup DocuSign account")
    assert "Acme — Acme Corp (In sync)" in page.locator("#content ul").first.inner_text()
    page.get_by_role("button", name="Yes, set up 1 account(s)").click()
    assert setup_badge(page, portal, "Acme").inner_text() == "In sync"
    page.screenshot(path=str(SCREENSHOTS / "setup-in-sync.png"), full_page=True)
    assert configurations_in_the_console(page, sandbox, "Acme Corp").count() == 1  # the second push made no other
    assert ConnectConfiguration.objects.filter(account__account_id=acme.account_id).count() == 1

    # 2. Drift: HMAC turned off on the portal's configuration in DocuSign; beat's check finds it; a push restores it.
    stored = ConnectConfiguration.objects.get(account__account_id=acme.account_id)
    stored.body = {**stored.body, "includeHMAC": "false"}
    stored.save()
    assert configurations_in_the_console(page, sandbox, "Acme Corp").locator("td").last.inner_text() == "none"
    assert account_setup_check_all.delay().get() == 1
    drifted = setup_badge(page, portal, "Acme")
    assert (drifted.inner_text(), drifted.get_attribute("title")) == ("Drifted", "includeHMAC")
    page.screenshot(path=str(SCREENSHOTS / "setup-drifted.png"), full_page=True)
    run_admin_action(page, portal, "Acme", "Setup DocuSign account")
    page.get_by_role("button", name="Yes, set up 1 account(s)").click()
    assert setup_badge(page, portal, "Acme").inner_text() == "In sync"
    assert configurations_in_the_console(page, sandbox, "Acme Corp").locator("td").last.inner_text() == "partner keys"

    # 3. From the checklist: an account setting changed in DocuSign; the client admin, a DocuSign administrator
    # connected as themselves, sees the drift and presses the button.
    account = Account.objects.get(account_id=acme.account_id)
    account.settings = {**account.settings, "attachCompletedEnvelope": "false"}
    account.save()
    account_setup_check_all.delay().get()
    client_page = second_browser
    sign_in(client_page, portal, factories.client_admin("acme-admin", acme))
    connect_to_docusign(client_page, portal, sandbox, acme.slug, "admin@acme.example")
    step = client_page.locator("#step-setup")
    assert step.locator(".status").inner_text() == "Drifted"
    # In plain words for the client admin, not DocuSign's setting key.
    assert "the account setting “attach completed envelope”" in step.inner_text()
    assert "settings.attachCompletedEnvelope" not in step.inner_text()
    step.get_by_role("button", name="Set up DocuSign account").click()
    client_page.wait_for_url(f"{portal.url}/onboarding/{acme.slug}/#step-setup")
    assert client_page.get_by_role("status").inner_text() == (
        "Your DocuSign account is set up: the portal will hear about your envelopes.")
    assert step.locator(".status").inner_text() == "In sync"
    client_page.screenshot(path=str(SCREENSHOTS / "setup-checklist-done.png"), full_page=True)
    account.refresh_from_db()
    assert account.settings["attachCompletedEnvelope"] == "true"
    assert AuditEvent.objects.filter(action="account_setup.push", organization=acme).latest("pk").after["as"] == (
        "the DocuSign connection of admin@acme.example")
    assert setup_badge(page, portal, "Acme").inner_text() == "In sync"

    # 4. Offboarding: the confirmation says what goes and what stays; with a reason, the list shows it offboarded.
    run_admin_action(page, portal, "Acme", "Offboard (the client leaves)")
    page.get_by_role("heading", name="Offboard Acme").wait_for()
    deleted = page.locator("#content ul").filter(has_text="DocuSign connection(s)")
    assert "1 DocuSign connection(s) of its client admins" in deleted.inner_text()
    assert "1 member(s) lose access to its onboarding pages" in deleted.inner_text()
    assert page.get_by_role("heading", name="Kept").is_visible()
    assert "envelopes, stored signed documents, Connect messages and audit history are kept" in page.locator(
        "#content").inner_text()
    page.get_by_label("Reason").fill("Contract ended on 2026-11-30")
    page.get_by_role("button", name="Yes, offboard Acme").click()
    assert "Offboarded Acme" in page.locator(".messagelist").inner_text()
    page.goto(f"{portal.url}{CHANGELIST}?offboarded=yes")
    offboarded = page.get_by_role("row", name=re.compile("Acme")).locator("td.field-health .badge")
    assert (offboarded.inner_text(), offboarded.get_attribute("title")) == ("Offboarded", "Contract ended on 2026-11-30")
    assert page.locator("#result_list tbody tr").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "offboarded.png"), full_page=True)

    response = client_page.goto(f"{portal.url}/onboarding/{acme.slug}/")
    assert response.status == 404
    client_page.screenshot(path=str(SCREENSHOTS / "offboarded-checklist-404.png"), full_page=True)


@pytest.mark.browser
def test_a_client_admin_who_is_not_a_docusign_administrator_reads_who_must_set_the_account_up(
        portal, sandbox, page):  # noqa: F811
    initech = consented_organization(sandbox, "sender@initech.example", "Initech")  # nobody there is an administrator
    sign_in(page, portal, factories.client_admin("initech-admin", initech))
    connect_to_docusign(page, portal, sandbox, initech.slug, "sender@initech.example")
    settings_before = Account.objects.get(account_id=initech.account_id).settings
    writes = RequestLog.objects.filter(account_id=initech.account_id).exclude(method="GET")

    page.locator("#step-setup").get_by_role("button", name="Set up DocuSign account").click()
    page.wait_for_url(f"{portal.url}/onboarding/{initech.slug}/#step-setup")

    sentence = ("A DocuSign administrator of Initech must connect to DocuSign and run Setup, "
                "or make the system user sender@initech.example an administrator.")
    assert page.get_by_role("status").inner_text() == sentence
    assert page.locator("#step-setup .status").inner_text() == "Needs attention"
    page.screenshot(path=str(SCREENSHOTS / "setup-refused.png"), full_page=True)
    assert not ConnectConfiguration.objects.filter(account__account_id=initech.account_id).exists()
    assert Account.objects.get(account_id=initech.account_id).settings == settings_before
    assert not writes.exists()
