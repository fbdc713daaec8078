"""The onboarding checklist shows every step, each with its status and the one button that moves it forward."""

from __future__ import annotations

from django.urls import reverse

from docusign_integration.models import AccountSetupState
from tests.onboarding.conftest import member_of


def test_the_checklist_lists_the_five_steps_with_setup_and_sending(admin_client, people):
    page = admin_client.get(reverse("onboarding:checklist", args=[people.org_a.slug]))

    assert page.status_code == 200
    html = page.content.decode()
    for step in ("step-consent", "step-connect", "step-account", "step-setup", "step-send"):
        assert f'id="{step}"' in html
    assert "Coming soon" not in html
    assert reverse("onboarding:envelope_new", args=[people.org_a.slug]) in html


def test_the_setup_step_names_the_drifted_fields_and_offers_the_push_once_an_account_is_chosen(admin_client, people):
    org = people.org_a
    org.account_id, org.base_uri = "0f3c1e2a-5b6d-4e7f-8a9b-0c1d2e3f4a5b", "https://demo.docusign.net"
    org.save()
    AccountSetupState.objects.create(organization=org, status="drifted", drift=["events", "settings.enableResponsiveSigning"])

    html = admin_client.get(reverse("onboarding:checklist", args=[org.slug])).content.decode()

    assert "Drifted" in html
    assert "settings.enableResponsiveSigning" in html
    assert reverse("docusign:account_setup", args=[org.slug]) in html


def test_a_member_sees_the_setup_status_but_not_the_push_button(client, people):
    org = people.org_a
    org.account_id = "0f3c1e2a-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
    org.save()
    member = member_of(org)
    client.force_login(member)

    html = client.get(reverse("onboarding:checklist", args=[org.slug])).content.decode()

    assert 'id="step-setup"' in html
    assert reverse("docusign:account_setup", args=[org.slug]) not in html
