"""The onboarding checklist: each step's state from the facts, done steps collapsed to a summary with a "change" link,
steps whose prerequisites do not hold disabled with a sentence saying what is missing, and Ready recorded (audited)
when every fact holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from docusign_integration.models import AccountSetupState, DocuSignCredential, Envelope
from tenants import readiness, tasks
from tenants.models import AccountSource, AuditEvent, ConsentStatus, OnboardingStatus, SystemUser
from tests.onboarding.conftest import member_of

ACCOUNT = "0f3c1e2a-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
ENVELOPE = "1a2b3c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d"


def checklist(client, organization) -> str:
    return client.get(reverse("onboarding:checklist", args=[organization.slug])).content.decode()


def step(html: str, name: str) -> str:
    start = html.index(f'id="step-{name}"')
    return html[start:html.index("</li>", start)]


def holds(organization, *, consent=True, connected=True, chosen=True, in_sync=True, sent=True, user=None) -> None:
    """Make the named facts hold for `organization` (rows as the product's flows leave them)."""
    if consent:
        SystemUser.objects.filter(organization=organization).update(consent_status=ConsentStatus.GRANTED)
    if chosen:
        organization.account_id, organization.base_uri = ACCOUNT, "https://demo.docusign.net"
        organization.account_source = AccountSource.CLIENT
        organization.save()
    if connected:
        credential = DocuSignCredential(organization=organization, user=user, environment="sandbox", scopes="signature",
                                        docusign_user_id="5d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a",
                                        refresh_expires_at=timezone.now() + timedelta(days=30),
                                        accounts=[{"account_id": ACCOUNT, "account_name": "Acme", "is_default": True,
                                                   "base_uri": "https://demo.docusign.net"}])
        credential.set_tokens(access_token="test-access", refresh_token="test-refresh",  # noqa: S106 - test values
                              expires_at=timezone.now() + timedelta(hours=1))
        credential.save()
    if in_sync:
        AccountSetupState.objects.create(organization=organization, status="in_sync")
    if sent:
        Envelope.objects.create(organization=organization, envelope_id=ENVELOPE, environment="sandbox", status="sent",
                                created_via="portal")


def test_a_new_organization_s_later_steps_are_disabled_and_say_what_is_missing(admin_client, people):
    html = checklist(admin_client, people.org_a)

    assert 'class="disabled"' in step(html, "account") and "Connect to DocuSign first" in step(html, "account")
    assert "Waiting for the system user&#x27;s consent" in step(html, "setup")
    assert "Waiting for the system user&#x27;s consent" in step(html, "send")
    # No sending before setup: the send step offers no button.
    assert reverse("onboarding:envelope_new", args=[people.org_a.slug]) not in html
    assert reverse("docusign:account_setup", args=[people.org_a.slug]) not in html


def test_consent_s_recorded_account_is_not_the_client_s_choice(admin_client, people):
    holds(people.org_a, chosen=False, in_sync=False, sent=False, user=people.admin_a)
    people.org_a.account_id, people.org_a.account_source = ACCOUNT, AccountSource.CONSENT
    people.org_a.save()

    html = checklist(admin_client, people.org_a)

    assert "Chosen" not in step(html, "account")
    assert reverse("onboarding:account", args=[people.org_a.slug]) in step(html, "account")
    assert "Choose the DocuSign account first" in step(html, "setup")


def test_sending_waits_for_setup_and_done_steps_collapse_with_a_change_link(admin_client, people):
    holds(people.org_a, in_sync=False, sent=False, user=people.admin_a)

    html = checklist(admin_client, people.org_a)

    assert "Set up the DocuSign account first" in step(html, "send")
    assert reverse("onboarding:envelope_new", args=[people.org_a.slug]) not in html
    for name in ("consent", "connect"):
        assert 'class="done"' in step(html, name) and "<summary>change</summary>" in step(html, name), name
    assert 'class="done"' in step(html, "account") and ">change</a>" in step(html, "account")
    assert reverse("docusign:account_setup", args=[people.org_a.slug]) in step(html, "setup")


def test_an_account_set_up_once_keeps_its_send_step_when_it_drifts_and_the_server_agrees(admin_client, people):
    holds(people.org_a, in_sync=False, sent=False, user=people.admin_a)
    AccountSetupState.objects.create(organization=people.org_a, status="drifted", drift=["events"], pushed_at=timezone.now())

    html = checklist(admin_client, people.org_a)

    assert "Drifted" in step(html, "setup")  # shown ...
    assert reverse("onboarding:envelope_new", args=[people.org_a.slug]) in step(html, "send")  # ... not blocking
    assert readiness.facts_of(people.org_a).setup_done  # the fact the sending service checks


def test_the_setup_step_says_the_drift_in_plain_words(admin_client, people):
    holds(people.org_a, in_sync=False, sent=False, user=people.admin_a)
    AccountSetupState.objects.create(organization=people.org_a, status="drifted",
                                     drift=["events", "settings.enableResponsiveSigning"])

    html = step(checklist(admin_client, people.org_a), "setup")

    assert "Drifted" in html and "which envelope events DocuSign reports to the portal" in html
    assert "enable responsive signing" in html and "settings.enableResponsiveSigning" not in html


def test_every_fact_makes_the_organization_ready_once_audited_and_the_dashboard_counts_it(admin_client, people):
    holds(people.org_a, user=people.admin_a)

    html = checklist(admin_client, people.org_a)
    checklist(admin_client, people.org_a)

    assert 'id="ready"' in html and "Ready: every step is done" in html
    people.org_a.refresh_from_db()
    assert people.org_a.onboarding_status == OnboardingStatus.READY
    assert AuditEvent.objects.filter(action="organization.ready", organization=people.org_a).count() == 1
    from pages.dashboard import onboarding_tallies
    assert next(t for t in onboarding_tallies() if t.label == "Ready").count == 1


@pytest.mark.parametrize("missing", ["consent", "connected", "chosen", "in_sync", "sent"])
def test_ready_needs_every_fact(people, missing):
    holds(people.org_a, user=people.admin_a, **{missing: False})

    readiness.readiness_refresh(acting_user=None, organization=people.org_a)

    people.org_a.refresh_from_db()
    assert people.org_a.onboarding_status != OnboardingStatus.READY


def test_beat_records_ready_and_takes_it_back_with_one_query_to_find_them(people, django_assert_max_num_queries):
    holds(people.org_a, user=people.admin_a)
    assert tasks.refresh_readiness() == 1
    assert tasks.refresh_readiness() == 0
    people.org_a.refresh_from_db()
    assert people.org_a.onboarding_status == OnboardingStatus.READY

    AccountSetupState.objects.filter(organization=people.org_a).update(status="drifted")
    with django_assert_max_num_queries(1):
        assert len(list(readiness.to_change())) == 1
    assert tasks.refresh_readiness() == 1
    people.org_a.refresh_from_db()
    assert people.org_a.onboarding_status == OnboardingStatus.CONNECTED
    assert AuditEvent.objects.filter(action="organization.not_ready").exists()


def test_a_member_sees_the_setup_status_but_not_the_push_button(client, people):
    holds(people.org_a, in_sync=False, sent=False, user=people.admin_a)
    member = member_of(people.org_a)
    client.force_login(member)

    html = checklist(client, people.org_a)

    assert 'id="step-setup"' in html
    assert reverse("docusign:account_setup", args=[people.org_a.slug]) not in html


def test_an_offboarded_client_is_not_ready_and_beat_settles_it_once(people):
    holds(people.org_a, user=people.admin_a)
    tasks.refresh_readiness()
    people.org_a.refresh_from_db()
    people.org_a.offboarded_at = timezone.now()
    people.org_a.save()

    assert tasks.refresh_readiness() == 1
    assert tasks.refresh_readiness() == 0  # nothing left to change: beat does not redo it every run
    people.org_a.refresh_from_db()
    assert people.org_a.onboarding_status != OnboardingStatus.READY
