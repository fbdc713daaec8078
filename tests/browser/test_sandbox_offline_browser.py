"""The sandbox lets a newcomer finish everything offline, in a real browser.

A remote (email) signer is completed from the sandbox's console; the portal's sweep reads the change and its
download holds the pages the sender uploaded. The sandbox's root page links the console. The consent page follows
POST/redirect/GET, so the back button after consent sends no form again.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from docusign_integration.client import http
from docusign_integration.envelopes.sync import envelopes_sweep
from docusign_sandbox.models import Envelope as SandboxEnvelope
from docusign_sandbox.models import IntegrationKey, RedirectURI
from docusign_sandbox.pdf import text_pdf
from tests import factories
from tests.browser.test_sending_browser import sign_in_as
from tests.envelopes.conftest import connected_organization, media_root  # noqa: F401 (fixtures)
from tests.sandbox import authorize_url

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
LEASE_TEXT = "Clause 7: the tenant may keep one cat named Ada."
LEASE = text_pdf([["Lease of flat 4B", LEASE_TEXT], ["Clause 12: rent is due on the first day of each month."]],
                 title="Lease")


@pytest.fixture
def sandbox(page, sandbox):
    """The browser is closed before the sandbox stops (see test_provision_consent_browser)."""
    page.set_viewport_size(VIEWPORT)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield sandbox
    page.context.close()
    http.session.close()


@pytest.mark.browser
@pytest.mark.usefixtures("eager_celery", "media_root")
def test_a_remote_signer_completed_from_the_console_and_the_portals_download_holds_the_uploaded_pages(
        live_server, sandbox, settings, page, tmp_path):
    settings.PORTAL_BASE_URL = live_server.url
    organization = connected_organization(sandbox, "acme")
    client_admin = factories.client_admin("ana-admin", organization)
    upload = tmp_path / "Lease.pdf"
    upload.write_bytes(LEASE)

    sign_in_as(page, live_server, client_admin)
    page.goto(f"{live_server.url}/onboarding/{organization.slug}/envelopes/new/")
    page.get_by_label("Subject").fill("Lease of flat 4B")
    page.get_by_label("Document (PDF or Word)").set_input_files(str(upload))
    signer = page.locator("#signer-1")
    signer.get_by_label("Name").fill("Rita Remote")
    signer.get_by_label("Email").fill("rita@tenant.example")
    page.get_by_role("button", name="Continue in DocuSign").click()
    page.wait_for_url(f"{sandbox.url}/signing/**")
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_url(f"{live_server.url}/onboarding/{organization.slug}/envelopes/*/?*")  # ?sent= or ?signed=
    envelope_url = page.url.split("?")[0]  # without the return's ?sent=

    page.goto(f"{sandbox.url}/_sandbox/console/envelopes")
    row = page.get_by_role("row", name="Lease of flat 4B")
    assert "rita@tenant.example" in row.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "sandbox-console-envelopes-remote-signer.png"))
    row.get_by_role("button", name="Sign as Rita Remote").click()
    page.wait_for_url(f"{sandbox.url}/_sandbox/console/envelopes**")
    assert "Rita Remote signed" in page.locator(".messages").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "sandbox-console-envelopes-signed.png"))
    in_docusign = SandboxEnvelope.objects.get(email_subject="Lease of flat 4B")
    assert in_docusign.status == "completed"
    # The portal's periodic sweep (Celery beat in `make run`) reads the change from DocuSign; run here, in the test's
    # thread, while the browser is idle (the live server and the sandbox share one in-memory database connection).
    envelopes_sweep(organization)

    page.goto(envelope_url)
    assert page.locator("h1 .status").inner_text() == "Completed"
    page.screenshot(path=str(SCREENSHOTS / "envelope-completed-by-remote-signer.png"))
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Signed documents (combined PDF)").click()
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(Path(download_info.value.path()).read_bytes())).pages]
    assert LEASE_TEXT in pages[0]
    assert "Clause 12: rent is due on the first day of each month." in pages[1]
    assert "Signed by Rita Remote at " in pages[2]


@pytest.mark.browser
def test_the_sandbox_root_page_says_what_it_is_and_links_the_console(sandbox, page):
    page.goto(f"{sandbox.url}/")
    assert page.get_by_role("heading", name="DocuSign sandbox").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "sandbox-root.png"))
    page.get_by_role("link", name="console").click()
    page.wait_for_url(f"{sandbox.url}/_sandbox/")
    page.get_by_role("heading", name="Accounts").wait_for()


@pytest.mark.browser
def test_back_after_consent_sends_no_form_again(live_server, sandbox, settings, page):
    callback = f"{live_server.url}/docusign/callback/"
    RedirectURI.objects.create(integration_key=IntegrationKey.objects.get(client_id=settings.DOCUSIGN_INTEGRATION_KEY),
                               uri=callback)
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)

    page.goto(authorize_url(sandbox, redirect_uri=callback, state="st-back"))
    page.locator("#email").fill("system@acme.example")
    page.locator("#password").fill(sandbox.user("system@acme.example")["password"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow").wait_for()
    page.screenshot(path=str(SCREENSHOTS / "sandbox-consent.png"))
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{callback}?**")
    assert len(posts) == 2  # signing in, allowing

    page.go_back()

    assert len(posts) == 2, posts  # no form was sent again
    assert not page.url.startswith("chrome-error:")
    # Back re-reads the consent page's GET; consent now covers the scopes, so DocuSign's answer is the redirect back.
    assert page.url.startswith(f"{callback}?")
    page.screenshot(path=str(SCREENSHOTS / "sandbox-consent-after-back.png"))
