"""Issue 18's journey in a real browser: a hosted client in the ISV account sends and signs; Connect reaches it only.

Staff set up the ISV account with `setup_isv_account` (its Connect configuration is the one the portal pushes), then
provision the client with `provision_client --hosted` (its system user appears in the sandbox's ISV account with
the portal's permission profile); the ISV's one organization admin consent covers it (check_consent verifies it);
its client admin sees a checklist without the ISV's steps, sends a PDF in DocuSign's sender view, a member signs it
embedded; the Connect messages of the ISV account reach that client; a second hosted client sees none of it.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from docusign_integration.connect.events import connect_event_process
from docusign_integration.connect.models import ConnectEventState
from docusign_integration.models import ConnectEvent, Envelope
from docusign_sandbox import connect_delivery
from docusign_sandbox.models import Membership
from docusign_sandbox.seed import PARTNER
from tenants.models import ClientMembership, ClientOrganization, MembershipRole
from tests import factories
from tests.browser.test_sending_browser import sign_in_as
from tests.connect.sandbox_world import import_partner_keys
from tests.envelopes.conftest import SIMPLE_PDF, media_root  # noqa: F401 (fixture)
from tests.hosting.conftest import isv_account  # noqa: F401 (fixture)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def provision(name: str) -> ClientOrganization:
    call_command("provision_client", name, "--environment", "sandbox", "--hosted", stdout=io.StringIO())
    organization = ClientOrganization.objects.get(name=name)
    with contextlib.suppress(SystemExit):
        call_command("check_consent", "--org", organization.slug, stdout=io.StringIO(), stderr=io.StringIO())
    organization.refresh_from_db()
    return organization


@pytest.mark.browser
@pytest.mark.usefixtures("eager_celery", "media_root")
def test_a_hosted_client_sends_and_signs_and_a_second_hosted_client_sees_none_of_it(
        live_server, sandbox, settings, page, tmp_path, isv_account):  # noqa: F811
    settings.PORTAL_BASE_URL = live_server.url
    import_partner_keys(sandbox.seed)
    # The ISV account's Connect configuration is the one setup pushes (with the custom fields routing reads).
    call_command("setup_isv_account", "--environment", "sandbox", "--account-id", isv_account.account_id,
                 "--base-uri", isv_account.base_uri, "--admin-user-id", isv_account.admin_user_id, stdout=io.StringIO())

    alpha, bravo = provision("Alpha Dental"), provision("Bravo Dental")
    member = Membership.objects.get(account__account_id=PARTNER.account_id, user__email=alpha.system_user.email)
    assert member.permission_profile == isv_account.permission_profile_name and not member.is_admin
    assert alpha.system_user.consent_status == "granted", alpha.system_user.last_error
    admin_alpha, admin_bravo = factories.client_admin("ana", alpha), factories.client_admin("bea", bravo)
    signer = factories.user("bob", first_name="Bob", last_name="Builder")
    ClientMembership.objects.create(user=signer, organization=alpha, role=MembershipRole.MEMBER)
    upload = tmp_path / "Service agreement.pdf"
    upload.write_bytes(SIMPLE_PDF)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    sign_in_as(page, live_server, admin_alpha)
    page.goto(f"{live_server.url}/onboarding/{alpha.slug}/")
    assert page.locator("#hosted-consent").is_visible()
    assert page.locator("#step-connect").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "hosted-client-checklist.png"), full_page=True)

    page.goto(f"{live_server.url}/onboarding/{alpha.slug}/envelopes/new/")
    page.get_by_label("Subject").fill("Service agreement")
    page.get_by_label("Document (PDF or Word)").set_input_files(str(upload))
    page.locator("#signer-1").get_by_label("Signs here in the portal as").select_option(
        label="Bob Builder (bob@example.com)")
    page.get_by_role("button", name="Continue in DocuSign").click()
    page.wait_for_url(f"{sandbox.url}/signing/**")
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_url(f"{live_server.url}/onboarding/{alpha.slug}/envelopes/*/?*")  # ?sent= or ?signed= (the outcome)
    envelope_url = page.url

    sign_in_as(page, live_server, signer)
    page.goto(envelope_url)
    page.get_by_role("button", name="Sign now as Bob Builder").click()
    page.wait_for_url(f"{sandbox.url}/signing/**")
    page.get_by_role("button", name="Sign", exact=True).click()
    page.wait_for_url(f"{live_server.url}/onboarding/{alpha.slug}/envelopes/*/?*")  # ?sent= or ?signed= (the outcome)
    # The page follows the envelope live (issue 14): Connect's completion may land a moment after the return.
    expect(page.locator("h1 .status")).to_have_text("Completed", timeout=15000)
    page.screenshot(path=str(SCREENSHOTS / "hosted-client-envelope-completed.png"), full_page=True)

    assert connect_delivery.flush(30)
    envelope = Envelope.objects.get(organization=alpha)
    events = ConnectEvent.objects.filter(envelope_id=envelope.envelope_id)
    assert events.exists()
    assert set(events.values_list("organization", flat=True)) == {alpha.pk}
    for pending in events.filter(state=ConnectEventState.RECEIVED):  # the dispatcher's batch may still hold some
        connect_event_process(pending.pk)
    assert set(events.values_list("state", flat=True)) <= {ConnectEventState.APPLIED, ConnectEventState.IGNORED}
    assert not ConnectEvent.objects.filter(state=ConnectEventState.QUARANTINED).exists()

    sign_in_as(page, live_server, admin_bravo)
    page.goto(f"{live_server.url}/onboarding/{bravo.slug}/envelopes/")
    assert "Service agreement" not in page.content()
    page.screenshot(path=str(SCREENSHOTS / "hosted-client-second-sees-nothing.png"), full_page=True)
    assert page.goto(envelope_url).status == 404
    assert page.goto(envelope_url.replace(f"/{alpha.slug}/", f"/{bravo.slug}/")).status == 404
    assert not Envelope.objects.filter(organization=bravo).exists()
