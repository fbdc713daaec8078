"""The ways to run Setup DocuSign account: the admin action, the checklist button, the command, the daily check."""

from __future__ import annotations

import io
import uuid

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from docusign_integration.client.errors import TransientError
from docusign_integration.models import AccountSetupState
from docusign_integration.setup.account_setup import account_setup_status
from docusign_integration.setup.models import SetupStatus
from docusign_integration.setup.tasks import account_setup_check_all, account_setup_push_task
from docusign_sandbox.models import ConnectConfiguration, Fault
from pages.drift_words import drift_words
from tenants.models import AuditEvent, ClientMembership, MembershipRole
from tests import factories
from tests.onboarding.conftest import connect
from tests.setup.conftest import configurations, consented_organization

CHANGELIST = "/admin/tenants/clientorganization/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def run_command(*args: str) -> tuple[str, int]:
    out = io.StringIO()
    try:
        call_command("setup_docusign_account", *args, stdout=out, stderr=io.StringIO())
    except SystemExit as exc:
        return out.getvalue(), int(exc.code)
    return out.getvalue(), 0


# --- the admin ------------------------------------------------------------------------------------------------------

@pytest.mark.usefixtures("eager_celery")
def test_the_admin_action_confirms_what_will_be_pushed_then_sets_up_each_selected_account(acme):
    fresh = factories.organization("Fresh")  # no DocuSign account yet: listed as skipped, not queued
    client = signed_in(factories.isv_staff())

    chosen = client.post(CHANGELIST, {"action": "setup_docusign_account", "_selected_action": [acme.pk, fresh.pk]})
    page = client.get(chosen["Location"])

    text = page.content.decode()
    assert page.status_code == 200
    assert "Partner portal" in text and "envelope-completed" in text and "attachCompletedEnvelope" in text
    assert "Acme Corp" in text and "Skipped: no DocuSign account yet, or offboarded (1)" in text and "Fresh" in text
    assert configurations(acme) == []  # nothing is pushed before the confirmation

    done = client.post(chosen["Location"].split("?")[0], {"ids": f"{acme.pk},{fresh.pk}"}, follow=True)

    assert "Setup DocuSign account queued for 1 organization(s)" in done.content.decode()
    assert len(configurations(acme)) == 1
    state = AccountSetupState.objects.get(organization=acme)
    assert state.status == SetupStatus.IN_SYNC
    assert AuditEvent.objects.get(action="account_setup.push", organization=acme).actor.username == "staff"
    assert not AccountSetupState.objects.filter(organization=fresh).exists()


@pytest.mark.usefixtures("eager_celery")
def test_the_check_action_shows_drift_now_without_pushing_anything(acme):
    fresh = factories.organization("Fresh")
    client = signed_in(factories.isv_staff())
    chosen = client.post(CHANGELIST, {"action": "setup_docusign_account", "_selected_action": [acme.pk]})
    client.post(chosen["Location"].split("?")[0], {"ids": f"{acme.pk}"})
    ConnectConfiguration.objects.all().delete()  # someone removed it in DocuSign's console

    done = client.post(CHANGELIST, {"action": "check_docusign_setup", "_selected_action": [acme.pk, fresh.pk]},
                       follow=True)

    assert "Setup check queued for 1 organization(s) (1 skipped: no DocuSign account yet, or offboarded)" in \
        done.content.decode()
    assert AccountSetupState.objects.get(organization=acme).status == SetupStatus.MISSING
    assert configurations(acme) == []  # a check never pushes


@pytest.mark.django_db
def test_the_confirmation_page_needs_change_permission():
    organization = factories.organization("Acme", account_id=str(uuid.uuid4()))
    client = signed_in(factories.isv_staff(permissions=False))

    assert client.get(f"{CHANGELIST}setup-docusign-account/?ids={organization.pk}").status_code == 403
    assert client.post(f"{CHANGELIST}setup-docusign-account/", {"ids": str(organization.pk)}).status_code == 403


@pytest.mark.django_db
def test_the_changelist_shows_setup_badges_at_a_constant_query_cost():
    client = signed_in(factories.isv_staff())

    def add(count: int) -> None:
        for _ in range(count):
            organization = factories.organization(f"Client {uuid.uuid4().hex[:8]}", account_id=str(uuid.uuid4()))
            AccountSetupState.objects.create(organization=organization, status=SetupStatus.DRIFTED, drift=["events"])

    def queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(CHANGELIST)
        return len(captured), response.content.decode()

    add(3)
    few, _ = queries()
    add(27)
    many, text = queries()

    assert many == few
    assert text.count(">Drifted</span>") == 30 and 'title="events"' in text


# --- the checklist button ---------------------------------------------------------------------------------------------

def test_the_client_admin_sets_up_the_account_from_the_checklist(acme):
    admin = factories.client_admin("client-admin", acme)

    response = signed_in(admin).post(f"/docusign/setup/{acme.slug}/")

    assert response.status_code == 302 and response["Location"] == f"/onboarding/{acme.slug}/#step-setup"
    assert messages_of(response) == ["Your DocuSign account is set up: the portal will hear about your envelopes."]
    assert len(configurations(acme)) == 1


def test_the_button_uses_the_client_admins_own_connection_when_the_system_user_is_not_an_administrator(sandbox):
    seeded = sandbox.user("system@acme.example")  # not an administrator, and has not even consented
    organization = factories.organization("Acme", system_user_id=seeded["user_id"], system_user_email=seeded["email"])
    client = signed_in(factories.client_admin("client-admin", organization))
    connect(client, sandbox, organization.slug, "admin@acme.example")

    response = client.post(f"/docusign/setup/{organization.slug}/")

    assert messages_of(response)[-1] == "Your DocuSign account is set up: the portal will hear about your envelopes."
    organization.refresh_from_db()
    assert len(configurations(organization)) == 1
    event = AuditEvent.objects.get(action="account_setup.push", organization=organization)
    assert event.after["as"] == "the DocuSign connection of admin@acme.example"


def test_a_refusal_is_shown_to_the_client_admin_as_the_sentence_saying_who_must_act(initech):
    client = signed_in(factories.client_admin("client-admin", initech))

    response = client.post(f"/docusign/setup/{initech.slug}/", follow=True)

    assert messages_of(response) == [
        "A DocuSign administrator of Initech must connect to DocuSign and run Setup, "
        "or make the system user sender@initech.example an administrator."]


def test_only_the_organizations_client_admins_may_press_the_button_and_only_with_post(acme):
    other = factories.organization("Other")
    member = factories.user("member")
    ClientMembership.objects.create(user=member, organization=acme, role=MembershipRole.MEMBER)
    url = f"/docusign/setup/{acme.slug}/"

    assert signed_in(factories.client_admin("other-admin", other)).post(url).status_code == 404
    assert signed_in(member).post(url).status_code == 403
    assert signed_in(factories.client_admin("acme-admin", acme)).get(url).status_code == 405
    assert Client().post(url).status_code == 302  # to the sign-in page
    csrf_checked = Client(enforce_csrf_checks=True)
    csrf_checked.force_login(factories.client_admin("csrf-admin", acme))
    assert csrf_checked.post(url).status_code == 403
    assert configurations(acme) == []


def test_the_checklist_step_shows_the_status_the_drifted_fields_and_the_button_for_client_admins(acme):
    admin = factories.client_admin("client-admin", acme)
    AccountSetupState.objects.create(organization=acme, status=SetupStatus.DRIFTED, drift=["events", "includeHMAC"])
    request = RequestFactory().get("/")
    request.user = admin

    words = drift_words(["events", "includeHMAC"])  # client admins read plain words, not DocuSign's field names
    for_admin = render_to_string("onboarding/steps/_setup.html", {"organization": acme, "is_admin": True,
                                                                  "drift_words": words}, request=request)
    for_member = render_to_string("onboarding/steps/_setup.html", {"organization": acme, "is_admin": False,
                                                                   "drift_words": words}, request=request)

    assert 'class="status attention">Drifted' in for_admin
    assert ("which envelope events DocuSign reports to the portal; the signature DocuSign puts on its messages"
            in for_admin) and "includeHMAC" not in for_admin
    assert f'action="/docusign/setup/{acme.slug}/"' in for_admin and "csrfmiddlewaretoken" in for_admin
    assert "Drifted" in for_member and "<form" not in for_member


@pytest.mark.django_db
def test_the_checklist_step_of_an_organization_never_checked_says_to_do():
    organization = factories.organization("Fresh")
    admin = signed_in(factories.client_admin("fresh-admin", organization))
    html = admin.get(f"/onboarding/{organization.slug}/").content.decode()

    assert 'class="status todo">To do' in html and "Waiting for the system user&#x27;s consent (step 1)." in html


# --- the command and the daily check ----------------------------------------------------------------------------------

def test_the_dry_run_prints_the_diff_and_changes_nothing(acme):
    output, status = run_command("--org", acme.slug, "--dry-run")

    assert status == 0
    assert (f"{acme.slug}: not set up; would create the Connect configuration; would set attachCompletedEnvelope=true"
            in output)
    assert output.strip().endswith("1 organization(s): 1 not set up.")
    assert configurations(acme) == []
    assert not AccountSetupState.objects.filter(organization=acme).exists()
    assert not AuditEvent.objects.filter(action__startswith="account_setup").exists()


def test_the_command_sets_up_then_reports_drift_in_a_dry_run_and_exits_1_on_failures(acme, initech):
    output, status = run_command("--all")

    assert status == 1
    assert f"{acme.slug}: set up" in output
    assert f"{initech.slug}: FAILED: A DocuSign administrator of Initech must connect" in output
    assert output.strip().endswith("2 organization(s): 1 failed, 1 set up.")
    stored = ConnectConfiguration.objects.get(account__account_id=acme.account_id)
    stored.body = {**stored.body, "includeDocuments": "true"}
    stored.save()

    output, _ = run_command("--org", acme.slug, "--dry-run")

    assert f"{acme.slug}: drifted; would update the Connect configuration (includeDocuments)" in output


def test_the_daily_check_records_drift_for_every_organization_with_an_account(acme, initech, eager_celery):
    factories.organization("Fresh")
    ConnectConfiguration.objects.all().delete()

    assert account_setup_check_all.delay().get() == 2

    assert AccountSetupState.objects.get(organization=acme).status == SetupStatus.MISSING
    refused = AccountSetupState.objects.get(organization=initech)
    assert refused.status == SetupStatus.UNKNOWN and "must connect to DocuSign and run Setup" in refused.last_error


def test_a_user_of_several_accounts_sets_up_only_the_organizations_account(sandbox):
    globex = consented_organization(sandbox, "multi@globex.example", "Globex")  # default account: Globex HR

    signed_in(factories.client_admin("globex-admin", globex)).post(f"/docusign/setup/{globex.slug}/")

    assert globex.account_name == "Globex HR"
    assert [c["name"] for c in configurations(globex)] == ["Partner portal"]
    assert ConnectConfiguration.objects.exclude(account__account_id=globex.account_id).count() == 0


def test_a_push_task_retries_while_docusign_is_unavailable_and_still_makes_one_configuration(acme, eager_celery):
    Fault.objects.create(path_pattern=r"/connect$", kind="503", remaining=3)  # every try of the first GET /connect

    account_setup_push_task.delay(acme.pk).get()

    assert len(configurations(acme)) == 1
    assert AccountSetupState.objects.get(organization=acme).status == SetupStatus.IN_SYNC
    failed = AuditEvent.objects.get(action="account_setup.push_failed", organization=acme)
    assert "try again shortly" in failed.after["last_error"]


def test_a_check_that_cannot_reach_docusign_raises_for_a_retry_and_records_nothing(acme):
    Fault.objects.create(path_pattern=r"/connect$", kind="503", remaining=3)

    with pytest.raises(TransientError):
        account_setup_status(organization=acme)

    assert not AccountSetupState.objects.filter(organization=acme).exists()
