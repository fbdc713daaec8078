"""The staff page of one client organization is the place for that client: its buttons, the account conflict, setup
drift as a table saying where each difference came from, its invitations; the setup confirmation is a table of
words; audit rows show only what changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from docusign_integration.models import AccountSetupState
from docusign_integration.setup.models import SetupProfile
from tenants import audit, services
from tenants.models import AccountSource, AuditEvent, Invitation, MembershipRole, SystemUser
from tests import factories

pytestmark = pytest.mark.django_db
HR = "c2a1d3b5-7e4f-4b9c-8d2e-000000000201"
GENERAL = "c2a1d3b5-7e4f-4b9c-8d2e-000000000202"


@pytest.fixture
def staff(settings) -> Client:
    settings.PORTAL_STAFF_REQUIRE_OTP = False
    client = Client()
    client.force_login(factories.isv_staff())
    return client


def page_of(staff: Client, organization) -> str:
    return staff.get(f"/admin/tenants/clientorganization/{organization.pk}/change/").content.decode()


def test_the_page_has_the_client_s_buttons_health_link_and_invitations(staff):
    globex = factories.organization("Globex")
    services.invitation_send(acting_user=None, organization=globex, email="it@globex.example", role=MembershipRole.ADMIN)

    html = page_of(staff, globex)

    assert 'name="action" value="check_consent"' in html and "Check consent</button>" in html
    assert 'name="action" value="setup_docusign_account"' in html and "Setup DocuSign account</button>" in html
    assert f"/admin/tenants/clientorganization/{globex.pk}/health/" in html
    invitations = html[html.index('id="invitations"'):]
    assert "it@globex.example" in invitations and "Pending" in invitations


def test_staff_see_a_conflict_when_the_client_chose_another_account_than_consent_found(staff):
    globex = factories.organization("Globex")
    globex.account_id, globex.account_name, globex.account_source = GENERAL, "Globex General", AccountSource.CLIENT
    globex.save()
    SystemUser.objects.filter(organization=globex).update(account_id=HR)

    html = page_of(staff, globex)

    assert 'id="account-conflict"' in html and "consent found c2a1d3b5-7e4f-4b9c-8d2e-000000000201" in html
    SystemUser.objects.filter(organization=globex).update(account_id=GENERAL)
    assert 'id="account-conflict"' not in page_of(staff, globex)


@pytest.mark.parametrize(("profile_edited", "origin"), [
    (False, "Changed in DocuSign since the last push"),
    (True, "The setup profile changed since the last push"),
])
def test_drift_is_a_table_saying_where_the_difference_came_from(staff, profile_edited, origin):
    acme = factories.organization("Acme")
    profile = SetupProfile.load()
    pushed = timezone.now() - timedelta(hours=1)
    SetupProfile.objects.filter(pk=profile.pk).update(updated=pushed + timedelta(minutes=5 if profile_edited else -5))
    AccountSetupState.objects.create(organization=acme, status="drifted", drift=["events"], pushed_at=pushed)

    html = page_of(staff, acme)
    table = html[html.index('id="setup-drift"'):]

    assert "which envelope events DocuSign reports to the portal" in table and origin in table


def test_an_audit_row_shows_only_the_fields_that_changed(staff):
    acme = factories.organization("Acme")
    event = audit.record(actor=None, action="consent.check", organization=acme, target=acme,
                         before={"consent_status": "unknown", "email": "a@acme.example"},
                         after={"consent_status": "granted", "email": "a@acme.example"})

    html = staff.get(f"/admin/tenants/auditevent/{event.pk}/change/").content.decode()

    assert "consent_status" in html and "granted" in html
    assert "a@acme.example" not in html
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_setup_confirmation_is_a_table_of_words_not_python_reprs(staff):
    acme = factories.organization("Acme", account_id=GENERAL)

    html = staff.post("/admin/tenants/clientorganization/", {"action": "setup_docusign_account",
                                                             "_selected_action": [acme.pk]}, follow=True).content.decode()

    table = html[html.index('id="setup-configuration"'):html.index("</table>", html.index('id="setup-configuration"'))]
    assert "<th scope=\"row\">events</th>" in table
    assert "[" not in table and "{" not in table and "True" not in table


def test_the_health_page_does_not_blame_docusign_for_drift_the_profile_may_have_made(staff):
    acme = factories.organization("Acme", account_id=GENERAL)
    acme.base_uri = "https://demo.docusign.net"
    acme.save()
    AccountSetupState.objects.create(organization=acme, status="drifted", drift=["events"])

    html = staff.get(f"/admin/tenants/clientorganization/{acme.pk}/health/").content.decode()

    assert "the profile was edited, or the account was changed in DocuSign" in html
    assert "Someone changed the account in DocuSign" not in html


def test_staff_revoke_and_resend_an_invitation_from_the_organization_s_page(staff, django_capture_on_commit_callbacks):
    globex = factories.organization("Globex")
    with django_capture_on_commit_callbacks(execute=True):
        first = services.invitation_send(acting_user=None, organization=globex, email="it@globex.example",
                                         role=MembershipRole.ADMIN)
    base = f"/admin/tenants/clientorganization/{globex.pk}/invitations/{first.pk}/"

    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(f"{base}resend/").status_code == 302
    first.refresh_from_db()
    second = Invitation.objects.exclude(pk=first.pk).get()
    assert first.revoked_at is not None and second.email == "it@globex.example" and len(mail.outbox) == 2
    old_link = mail.outbox[0].body[mail.outbox[0].body.index("/onboarding/invitations/"):].split()[0]
    assert "withdrawn" in Client().get(old_link).content.decode()

    assert staff.post(f"/admin/tenants/clientorganization/{globex.pk}/invitations/{second.pk}/revoke/").status_code == 302
    second.refresh_from_db()
    assert second.revoked_at is not None
    assert AuditEvent.objects.filter(action="invitation.revoke", organization=globex).count() == 2
    invitations = page_of(staff, globex)[page_of(staff, globex).index('id="invitations"'):]
    assert invitations.count("Revoked") == 2
    # Another organization's invitation id is not reachable through this organization's page.
    other = factories.organization("Other")
    assert staff.post(f"/admin/tenants/clientorganization/{other.pk}/invitations/{second.pk}/revoke/").status_code == 404
