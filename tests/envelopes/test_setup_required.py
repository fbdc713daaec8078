"""An own-account client cannot send before its "Setup DocuSign account" step is done (issue 14 follow-up): the
sending service refuses on the checklist's own fact, so the page and the ISV's API both refuse, and nothing reaches
DocuSign. A drifted account that was set up once still sends; a hosted client is exempt (tests/hosting sends for
hosted clients without any setup of their own)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from docusign_integration.envelopes import sending
from docusign_integration.models import AccountSetupState, Envelope
from docusign_integration.setup.models import SetupStatus
from tenants import readiness
from tests import factories
from tests.api.conftest import api_for, document_envelope
from tests.envelopes.conftest import SIMPLE_PDF, api_requests, connected_organization


@pytest.fixture
def not_set_up(sandbox):
    """Acme, consented and its account chosen, whose setup step nobody has done."""
    return connected_organization(sandbox, "acme", set_up=False)


def post_new_envelope(organization):
    person = Client()
    person.force_login(factories.client_admin("acme-admin", organization))
    return person.post(f"/onboarding/{organization.slug}/envelopes/new/", {
        "subject": "Service agreement", "document": SimpleUploadedFile("agreement.pdf", SIMPLE_PDF),
        "recipient-TOTAL_FORMS": "1", "recipient-INITIAL_FORMS": "0",
        "recipient-0-name": "Ana", "recipient-0-email": "ana@acme.example"})


def test_the_send_page_refuses_before_setup_says_what_to_do_and_creates_nothing_at_docusign(not_set_up):
    response = post_new_envelope(not_set_up)

    assert response.status_code == 200
    assert readiness.SETUP_FIRST in [str(m) for m in response.context["messages"]]
    assert not Envelope.objects.exists()
    assert not api_requests(r"/envelopes").exists()  # not a draft, not a sender view


def test_the_api_says_not_ready_before_setup_so_its_ready_never_contradicts_the_refusal(not_set_up):
    api = api_for(not_set_up)
    body = api.get("organization").json()
    assert body["ready"] is False and body["checklist"]["account_setup"] == "not_started"
    assert api.post("envelopes", document_envelope()).json()["code"] == "setup_required"


def test_the_api_refuses_with_a_stable_problem_code_and_creates_nothing_at_docusign(not_set_up):
    response = api_for(not_set_up).post("envelopes", document_envelope())

    assert response.status_code == 409 and response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "setup_required"
    assert response.json()["detail"] == readiness.SETUP_FIRST
    assert not Envelope.objects.exists() and not api_requests(r"/envelopes").exists()


def test_a_draft_made_before_the_account_changed_opens_no_sender_view_until_setup(not_set_up):
    draft = Envelope.objects.create(organization=not_set_up, envelope_id="0b6a5d0c-1111-4a2b-9c3d-0123456789ab",
                                    environment="sandbox", status="created")
    with pytest.raises(sending.SetupRequired):
        sending.sender_view_url(acting_user=None, envelope=draft, return_url="https://portal.example/back")
    assert not api_requests(r"/views/sender").exists()


@pytest.mark.parametrize(("status", "pushed"), [
    (SetupStatus.IN_SYNC, False),  # a check found the portal's configuration on the account
    (SetupStatus.DRIFTED, True),  # set up once, changed in DocuSign since: drift is shown, not blocking
    (SetupStatus.ERROR, True),  # a later push failed; the account was set up once
    (SetupStatus.MISSING, True),  # the configuration was deleted in DocuSign since: shown on the checklist
])
def test_an_account_set_up_once_may_send(not_set_up, status, pushed):
    AccountSetupState.objects.create(organization=not_set_up, status=status,
                                     pushed_at=timezone.now() if pushed else None)

    response = post_new_envelope(not_set_up)

    assert response.status_code == 302, [str(m) for m in response.context["messages"]]
    assert Envelope.objects.filter(organization=not_set_up).count() == 1


@pytest.mark.parametrize("status", [SetupStatus.UNKNOWN, SetupStatus.MISSING, SetupStatus.ERROR])
def test_an_account_never_set_up_may_not_send(not_set_up, status):
    AccountSetupState.objects.create(organization=not_set_up, status=status)

    assert post_new_envelope(not_set_up).status_code == 200
    assert not Envelope.objects.exists() and not api_requests(r"/envelopes").exists()
