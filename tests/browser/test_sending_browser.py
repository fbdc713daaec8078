"""Journeys 5-7 in a real browser: upload a PDF, send it in DocuSign's sender view, sign it embedded, download it.

The embedded signer is a member the sender chooses; only that member is offered "Sign now" (the sender is not).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from docusign_sandbox.documents import combined_pdf
from docusign_sandbox.models import Envelope as SandboxEnvelope
from tenants.models import ClientMembership, MembershipRole
from tests import factories
from tests.envelopes.conftest import SIMPLE_PDF, connected_organization, media_root  # noqa: F401 (fixtures)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def sign_in_as(page, live_server, user) -> None:
    """Replace the browser's portal session with `user`'s (the portal's sign-in itself is another journey's test)."""
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])


@pytest.mark.browser
@pytest.mark.usefixtures("eager_celery", "media_root")  # the return page's sweep and the download run where queued
def test_a_client_sends_a_pdf_the_chosen_member_signs_it_embedded_and_downloads_the_signed_copy(
        live_server, sandbox, settings, page, tmp_path):
    settings.PORTAL_BASE_URL = live_server.url
    organization = connected_organization(sandbox, "acme")
    client_admin = factories.client_admin("ana-admin", organization)
    signer = factories.user("bob", first_name="Bob", last_name="Builder")
    ClientMembership.objects.create(user=signer, organization=organization, role=MembershipRole.MEMBER)
    upload = tmp_path / "Mutual NDA.pdf"
    upload.write_bytes(SIMPLE_PDF)

    sign_in_as(page, live_server, client_admin)
    page.goto(f"{live_server.url}/onboarding/{organization.slug}/envelopes/new/")
    page.get_by_label("Subject").fill("Mutual NDA")
    page.get_by_label("Document (PDF or Word)").set_input_files(str(upload))
    page.locator("#signer-1").get_by_label("Signs here in the portal as").select_option(
        label="Bob Builder (bob@example.com)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "envelope-new-embedded-signer-chosen.png"), full_page=True)
    page.get_by_role("button", name="Continue in DocuSign").click()

    page.wait_for_url(f"{sandbox.url}/signing/**")  # DocuSign's sender view, a top-level page
    page.get_by_role("heading", name="Prepare and send").wait_for()
    page.get_by_role("button", name="Send", exact=True).click()

    page.wait_for_url(f"{live_server.url}/onboarding/{organization.slug}/envelopes/*/?*")  # ?sent= or ?signed=
    envelope_url = page.url.split("?")[0]  # without the return's ?sent=
    assert "Sent." in page.locator(".messages").inner_text()
    recipients = page.locator("#recipients")
    assert "Signs here in the portal as Bob Builder" in recipients.inner_text()
    assert page.get_by_role("button", name="Sign now as Bob Builder").count() == 0  # Ana sent it; Bob signs it
    page.screenshot(path=str(SCREENSHOTS / "envelope-sent-sender-sees-no-sign-now.png"), full_page=True)

    sign_in_as(page, live_server, signer)
    page.goto(envelope_url)
    page.screenshot(path=str(SCREENSHOTS / "envelope-sent-signer-sees-sign-now.png"), full_page=True)
    page.get_by_role("button", name="Sign now as Bob Builder").click()

    page.wait_for_url(f"{sandbox.url}/signing/**")
    page.get_by_role("button", name="Sign", exact=True).click()

    page.wait_for_url(f"{live_server.url}/onboarding/{organization.slug}/envelopes/*/?*")  # ?sent= or ?signed=
    assert "Signed." in page.locator(".messages").inner_text()
    assert page.locator("h1 .status").inner_text() == "Completed"
    page.screenshot(path=str(SCREENSHOTS / "envelope-completed.png"), full_page=True)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Signed documents (combined PDF)").click()
    downloaded = Path(download_info.value.path()).read_bytes()
    in_docusign = SandboxEnvelope.objects.get(email_subject="Mutual NDA")
    assert in_docusign.status == "completed"
    assert in_docusign.recipients.get().email == signer.email
    assert hashlib.sha256(downloaded).hexdigest() == hashlib.sha256(combined_pdf(in_docusign, False)).hexdigest()
    assert download_info.value.suggested_filename == f"combined-{in_docusign.envelope_id}.pdf"
