"""Issue 14 in a real browser: a new client's checklist leads to Ready (the client admin picks their second DocuSign
account over the one consent recorded, sets the account up, sends a first envelope and watches it turn Sent without
a reload), the staff dashboard counts it; and a 300-character unbroken name leaves the changelist's columns on a
1280 px screen. Screenshots at 1280x800 under var/screenshots/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from docusign_integration.envelopes.sync import envelopes_sweep
from docusign_sandbox.models import IntegrationKey, RedirectURI
from tenants.models import AccountSource
from tests import factories
from tests.browser.docusign_pages import sign_in_and_allow
from tests.browser.test_dashboard_browser import sign_in
from tests.envelopes.conftest import SIMPLE_PDF, media_root  # noqa: F401 (fixture)
from tests.setup.conftest import consented_organization, sandbox  # noqa: F401 (the sandbox that closes keep-alives)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
WIDTH = 1280


@pytest.fixture
def portal(live_server, sandbox, settings, page):  # noqa: F811
    settings.PORTAL_BASE_URL = live_server.url
    settings.PORTAL_STAFF_REQUIRE_OTP = False
    settings.DOCUSIGN_REDIRECT_URI = f"{live_server.url}/docusign/callback/"
    RedirectURI.objects.create(integration_key=IntegrationKey.objects.get(client_id=settings.DOCUSIGN_INTEGRATION_KEY),
                               uri=settings.DOCUSIGN_REDIRECT_URI)
    page.set_viewport_size({"width": WIDTH, "height": 800})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return live_server


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


@pytest.mark.browser
@pytest.mark.usefixtures("media_root")
def test_a_new_client_walks_the_checklist_to_ready_choosing_the_second_account_and_sees_sent_live(
        portal, sandbox, page, tmp_path):  # noqa: F811
    globex = consented_organization(sandbox, "multi@globex.example", "Globex")
    assert (globex.account_name, globex.account_source) == ("Globex HR", AccountSource.CONSENT)  # consent's default
    sign_in(page, portal, factories.client_admin("it-admin", globex))
    checklist = f"{portal.url}/onboarding/{globex.slug}/"

    page.goto(checklist)
    assert page.locator("#step-consent .status").inner_text() == "Granted"
    assert "Connect to DocuSign first" in page.locator("#step-account").inner_text()
    assert "Waiting" not in page.locator("#step-send").inner_text()
    assert "Set up the DocuSign account first" in page.locator("#step-send").inner_text()
    assert page.get_by_role("link", name="Send a document").count() == 0
    shot(page, "checklist-new-client")

    page.get_by_role("button", name="Connect to DocuSign").click()
    sign_in_and_allow(page, sandbox, "multi@globex.example")
    page.wait_for_url(f"{checklist}account/")
    assert page.get_by_role("row", name=re.compile("Globex HR")).get_by_text("Default").is_visible()
    page.get_by_label("Globex General").check()
    shot(page, "account-choice-second-account")
    page.get_by_role("button", name="Use this account").click()

    page.wait_for_url(checklist)
    assert page.locator("#step-account .status").inner_text() == "Chosen"
    assert "Globex General" in page.locator("#step-account").inner_text()
    page.locator("#step-setup").get_by_role("button", name="Set up DocuSign account").click()
    page.wait_for_url(f"{checklist}#step-setup")
    assert page.locator("#step-setup .status").inner_text() == "In sync"
    shot(page, "checklist-setup-done")

    upload = tmp_path / "Order form.pdf"
    upload.write_bytes(SIMPLE_PDF)
    page.get_by_role("link", name="Send a document").click()
    page.get_by_label("Subject").fill("Order form")
    page.get_by_label("Document (PDF or Word)").set_input_files(str(upload))
    page.locator("#signer-1").get_by_label("Name").fill("Sam Signer")
    page.locator("#signer-1").get_by_label("Email").fill("sam@customer.example")
    page.get_by_role("button", name="Continue in DocuSign").click()
    page.wait_for_url("**/signing/**")  # DocuSign's page at the chosen account's own site (docs/sandbox.md "Sites")
    page.get_by_role("button", name="Send", exact=True).click()

    page.wait_for_url(re.compile(re.escape(f"{checklist}envelopes/") + r"[0-9a-f-]{36}/\?sent=Send"))
    badge = page.locator("#envelope-live h1 .status")
    assert badge.inner_text() == "Sending" and "Draft" not in page.locator("main").inner_text()
    assert page.get_by_role("button", name="Prepare and send in DocuSign").count() == 0
    page.evaluate("window.stillTheSamePage = true")
    globex.refresh_from_db()  # the client chose Globex General meanwhile
    envelopes_sweep(globex)  # what the queued sweep (or DocuSign Connect) does; the page only polls the portal
    expect(badge).to_have_text("Sent", timeout=10_000)
    assert page.evaluate("window.stillTheSamePage") is True  # no reload
    assert "Sent. DocuSign is notifying the recipients" in page.locator("#outcome").inner_text()
    assert page.get_by_role("button", name="Prepare and send in DocuSign").count() == 0
    shot(page, "envelope-sent-live")

    page.goto(checklist)
    expect(page.locator("#ready")).to_have_text("Ready")
    assert page.locator("#step-send .status").inner_text() == "First envelope sent"
    shot(page, "checklist-ready")

    page.context.clear_cookies()
    sign_in(page, portal, factories.isv_staff())
    page.goto(f"{portal.url}/admin/dashboard/")
    ready = page.locator("section.tallies tr", has=page.get_by_role("rowheader", name="Ready", exact=True))
    assert ready.locator("td.count").inner_text() == "1"
    shot(page, "dashboard-counts-ready")


@pytest.mark.browser
def test_a_300_character_unbroken_name_leaves_the_changelist_columns_inside_1280_px(portal, page):
    name = "W" * 300
    factories.organization(name, system_user_email="system@wide.example")
    factories.organization("Acme", system_user_email="system@acme.example")
    sign_in(page, portal, factories.isv_staff())

    page.goto(f"{portal.url}/admin/tenants/clientorganization/")
    row = page.get_by_role("row", name=re.compile("W{20}"))
    shot(page, "changelist-long-name")

    # The results scroll sideways inside their box when too wide: every column must end inside that box.
    visible = page.locator("#changelist .results").bounding_box()
    assert visible is not None and visible["x"] + visible["width"] <= WIDTH
    for column in ("organization", "consent", "health", "setup_status", "health_link"):
        box = row.locator(f"td.field-{column}, th.field-{column}").bounding_box()
        assert box is not None and box["x"] >= visible["x"], (column, box)
        assert box["x"] + box["width"] <= visible["x"] + visible["width"], (column, box, visible)
    assert row.locator(".cut").get_attribute("title") == name  # the whole name on hover
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH

    page.goto(f"{portal.url}/admin/")  # the index's Dashboard link reads on one line (it was one letter per line)
    link = page.get_by_role("link", name="Dashboard", exact=True).bounding_box()
    assert link is not None and link["width"] > 3 * link["height"], link
    assert "Django administration" not in page.content()
    shot(page, "admin-index")
