"""Offboarding a client organization (docs/security.md TS-6): its secrets go, nothing calls DocuSign for it again.

Organizations A (Acme) and B (Globex) are consented in the DocuSign sandbox; A's client admin connects to DocuSign
through the real "Connect to DocuSign" round trip. Outbound calls are counted in the sandbox's request log.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from docusign_integration.connect import tasks as tasks_connect
from docusign_integration.connect.hmac import connect_hmac_key_add, organization_for_account
from docusign_integration.connect.tasks import process_connect_event
from docusign_integration.consent import tasks
from docusign_integration.envelopes import tasks as tasks_envelopes
from docusign_integration.envelopes.sync import envelopes_sweep
from docusign_integration.models import (
    CachedAccessToken,
    ConnectEvent,
    ConnectHMACKey,
    DocuSignCredential,
    Envelope,
    OAuthState,
)
from docusign_integration.oauth import tasks as tasks_credentials
from docusign_integration.oauth import tokens
from docusign_integration.setup import tasks as tasks_setup
from docusign_sandbox.models import RequestLog
from docusign_sandbox.seed import ACME
from pages import dashboard
from portal.celery import app as celery_app
from tenants import services
from tenants.models import AuditEvent, ClientMembership, ClientOrganization, ConsentStatus, Invitation, MembershipRole
from tenants.selection import selected_organizations
from tests import factories
from tests.connect.conftest import PARTNER_SECRET, fixture_body, signed_headers
from tests.envelopes.conftest import api_requests, connected_organization, docusign_envelope
from tests.onboarding.conftest import connect

ROOT = Path(__file__).resolve().parents[2]
REASON = "Contract ended on 2026-11-30"


def offboard(organization: ClientOrganization, acting_user=None) -> bool:
    return services.organization_offboard(acting_user=acting_user, organization=organization, reason=REASON)


def offboard_audits(organization: ClientOrganization) -> int:
    return AuditEvent.objects.filter(organization=organization, action="organization.offboard").count()


# --- docs/security.md TS-6 against the sandbox ----------------------------------------------------------------------


@pytest.fixture
def world(sandbox, settings, tmp_path):
    """A and B consented; A connected by its client admin, its system user's token cached; a completed envelope each
    whose documents are not downloaded yet."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    a, b = connected_organization(sandbox, "acme"), connected_organization(sandbox, "globex")
    admin_a, admin_b = factories.client_admin("admin-a", a), factories.client_admin("admin-b", b)
    client_a = Client()
    client_a.force_login(admin_a)
    connect(client_a, sandbox, a.slug, "system@acme.example")
    for organization in (a, b):  # B's first task then calls its account straight away, with no token request first
        tokens.get_impersonation_token(organization.environment, organization.system_user.user_id)
    for organization in (a, b):
        docusign_envelope(organization.account_id, status="completed")
        envelopes_sweep(organization)  # the portal learns of it; its download stays queued in the in-memory broker
    return a, b, admin_a, admin_b, client_a


def queued_for(organization: ClientOrganization) -> list:
    """Twenty of the organization's tasks as they sit in a queue: four of each kind that calls DocuSign."""
    envelope_id = Envelope.objects.get(organization=organization).envelope_id
    return 4 * [
        tasks_envelopes.sync_organization.si(organization.pk),
        tasks_envelopes.download_envelope_documents.si(organization.pk, envelope_id),
        tasks_setup.account_setup_check_task.si(organization.pk),
        tasks_connect.republish_failures.si(organization.pk),
        tasks.check_consent_task.si(organization.pk),
    ]


def test_offboarding_deletes_the_secrets_and_queued_tasks_make_no_docusign_call(world):
    a, b, *_ = world
    assert DocuSignCredential.objects.filter(organization=a).exists()
    assert CachedAccessToken.objects.filter(user_id=a.system_user.user_id).exists()
    queue_a, queue_b = queued_for(a), queued_for(b)

    assert offboard(a) is True

    assert not DocuSignCredential.objects.filter(organization=a).exists()
    assert not CachedAccessToken.objects.filter(user_id=a.system_user.user_id).exists()
    before = RequestLog.objects.count()
    for signature in queue_a:
        signature.apply()
    assert RequestLog.objects.count() == before  # 0 outbound calls of any kind for A's 20 tasks
    for signature in queue_b:
        signature.apply()
    assert api_requests(b.account_id).count() > 0
    assert Envelope.objects.get(organization=b).signed_documents.filter(state="stored").exists()
    assert not Envelope.objects.get(organization=a).signed_documents.exists()


@pytest.mark.postgres
@pytest.mark.redis
def test_a_real_worker_started_after_offboarding_makes_no_call_for_a_and_still_serves_b(world, redis_url, settings):
    """20 of A's tasks and B's tasks wait on Redis (db 10); A is offboarded; then `celery -A portal worker` starts."""
    a, b, *_ = world
    broker_url = redis_url.rsplit("/", 1)[0] + "/10"
    queue = f"portal-test-offboard-{uuid.uuid4().hex[:8]}"
    with celery_app.connection_for_write(broker_url) as broker:
        for signature in [*queued_for(a), *queued_for(b)]:
            signature.apply_async(connection=broker, queue=queue)
    offboard(a)
    last_call = RequestLog.objects.order_by("-id").values_list("id", flat=True).first()

    db = connection.settings_dict
    env = {**os.environ, "CELERY_BROKER_URL": broker_url, "DJANGO_SETTINGS_MODULE": "tests.settings",
           "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
           "DOCUSIGN_SANDBOX_URL": settings.DOCUSIGN_SANDBOX_URL, "DOCUSIGN_ENVIRONMENTS": "sandbox",
           "DOCUSIGN_INTEGRATION_KEY": settings.DOCUSIGN_INTEGRATION_KEY, "DOCUSIGN_PRIVATE_KEY": "",
           "DOCUSIGN_PRIVATE_KEY_FILE": settings.DOCUSIGN_PRIVATE_KEY_FILE, "DOCUSIGN_CLIENT_SECRET": "",
           "DOCUSIGN_CLIENT_SECRET_FILE": settings.DOCUSIGN_CLIENT_SECRET_FILE, "MEDIA_ROOT": settings.MEDIA_ROOT}
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "solo", "-l", "WARNING",
                               "-Q", queue], cwd=ROOT, env=env, start_new_session=True)
    try:
        with celery_app.connection_for_write(broker_url) as broker:
            deadline = time.monotonic() + 90
            # B's tasks come last in the queue: once B's documents are stored and the queue is empty, all ran.
            while time.monotonic() < deadline and not (
                    broker.default_channel.client.llen(queue) == 0
                    and Envelope.objects.get(organization=b).signed_documents.filter(state="stored").exists()):
                time.sleep(0.3)
    finally:
        worker.terminate()  # warm shutdown: a task in progress finishes
        worker.wait(20)
        with celery_app.connection_for_write(broker_url) as broker:
            broker.default_channel.queue_delete(queue)
    assert Envelope.objects.get(organization=b).signed_documents.filter(state="stored").exists()
    # The solo worker takes the queue in order, so every call before B's first one was made by one of A's 20 tasks.
    first_b = RequestLog.objects.filter(id__gt=last_call, account_id=b.account_id).order_by("id").first()
    assert first_b is not None
    assert RequestLog.objects.filter(id__gt=last_call, id__lt=first_b.id).count() == 0
    assert not Envelope.objects.get(organization=a).signed_documents.exists()


def test_a_client_admin_of_an_offboarded_organization_gets_404_and_b_is_unaffected(world):
    a, b, admin_a, admin_b, client_a = world
    client_b = Client()
    client_b.force_login(admin_b)
    assert client_a.get(f"/onboarding/{a.slug}/").status_code == 200

    offboard(a)

    for path in ("", "envelopes/", "account/"):
        assert client_a.get(f"/onboarding/{a.slug}/{path}").status_code == 404
    assert client_a.post(f"/onboarding/{a.slug}/connect/").status_code == 404
    assert client_b.get(f"/onboarding/{b.slug}/").status_code == 200
    assert client_b.get(f"/onboarding/{b.slug}/envelopes/").status_code == 200


# --- Connect ------------------------------------------------------------------------------------------------------


@pytest.fixture
def acme_with_key(db, settings):
    settings.DOCUSIGN_CONNECT_KEY_CACHE_SECONDS = 0
    organization = factories.organization("Acme Corp", account_id=ACME.account_id)
    connect_hmac_key_add(acting_user=None, environment="sandbox", label="Partner key 1", secret=PARTNER_SECRET)
    return organization


def deliver(client: Client, body: bytes):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post("/docusign/connect/", data=body, content_type="application/json",
                           **signed_headers(body, PARTNER_SECRET))


def test_a_connect_message_for_an_offboarded_organization_is_stored_and_quarantined_never_applied(
        client, acme_with_key):
    offboard(acme_with_key)

    with mock.patch("docusign_integration.connect.events.queue_processing") as queue_processing:
        response = deliver(client, fixture_body("envelope-completed"))

    assert response.status_code == 200
    queue_processing.assert_not_called()  # quarantined as it is stored: no task is queued for it
    event = ConnectEvent.objects.get()
    assert (event.organization_id, event.state) == (acme_with_key.pk, "quarantined")
    assert "offboarded" in event.reason
    assert not Envelope.objects.exists()


def test_a_message_stored_before_the_offboarding_is_quarantined_when_processed(client, acme_with_key):
    deliver(client, fixture_body("envelope-completed"))  # not eager: processing waits in the in-memory broker
    assert ConnectEvent.objects.get().state == "received"
    offboard(acme_with_key)

    process_connect_event.apply(args=[ConnectEvent.objects.get().pk])

    event = ConnectEvent.objects.get()
    assert event.state == "quarantined" and "offboarded" in event.reason
    assert not Envelope.objects.exists()


def test_the_listener_reads_the_offboarded_flag_in_its_one_organization_query(acme_with_key, django_assert_num_queries):
    offboard(acme_with_key)
    with django_assert_num_queries(1):
        organization = organization_for_account(ACME.account_id)
        assert organization.offboarded_at is not None


# --- the service: what it removes and keeps, twice, dry run ----------------------------------------------------------


@pytest.fixture
def people(db) -> factories.Personas:
    return factories.personas()


def test_it_revokes_invitations_removes_members_and_retires_only_the_account_keys(people, mailoutbox):
    a = people.org_a
    invitation = services.invitation_send(acting_user=people.staff, organization=a, email="new@a.example",
                                          role=MembershipRole.ADMIN)
    account_key = connect_hmac_key_add(acting_user=None, environment="sandbox", label="A's key", secret="a" * 20,
                                       organization=a)
    partner_key = connect_hmac_key_add(acting_user=None, environment="sandbox", label="Partner", secret="p" * 20)
    OAuthState.objects.create(state_hash="x" * 64, flow="authorization_code", environment="sandbox", organization_id=a.pk,
                              session_key_hash="s" * 64, created_at=timezone.now(),
                              expires_at=timezone.now() + timedelta(minutes=10))

    offboard(a, people.staff)

    invitation.refresh_from_db()
    assert not invitation.is_pending()
    assert not ClientMembership.objects.filter(organization=a).exists()
    assert ClientMembership.objects.filter(organization=people.org_b).exists()
    assert ConnectHMACKey.objects.get(pk=account_key.pk).active is False
    assert ConnectHMACKey.objects.get(pk=partner_key.pk).active is True
    assert not OAuthState.objects.filter(organization_id=a.pk).exists()
    a.refresh_from_db()
    assert a.offboarded_at is not None and a.offboarding_reason == REASON
    event = AuditEvent.objects.get(action="organization.offboard")
    assert (event.actor, event.organization) == (people.staff, a)
    assert event.after["members_removed"] == [{"user": "admin-a", "role": "admin"}]
    assert ClientOrganization.objects.filter(pk=a.pk).exists()  # the row and its history stay


def test_offboarding_twice_changes_nothing_the_second_time(people):
    assert offboard(people.org_a) is True
    audit_rows = AuditEvent.objects.count()
    first = ClientOrganization.objects.get(pk=people.org_a.pk).offboarded_at

    assert services.organization_offboard(acting_user=people.staff, organization=people.org_a, reason="again") is False

    assert AuditEvent.objects.count() == audit_rows
    assert offboard_audits(people.org_a) == 1
    organization = ClientOrganization.objects.get(pk=people.org_a.pk)
    assert (organization.offboarded_at, organization.offboarding_reason) == (first, REASON)


def test_an_empty_reason_is_refused_and_nothing_changes(people):
    with pytest.raises(ValidationError, match="Say why"):
        services.organization_offboard(acting_user=people.staff, organization=people.org_a, reason="  ")
    assert ClientOrganization.objects.get(pk=people.org_a.pk).offboarded_at is None
    assert ClientMembership.objects.filter(organization=people.org_a).exists()


def test_an_offboarded_organization_cannot_be_invited_to(people):
    offboard(people.org_a)
    with pytest.raises(ValidationError, match="offboarded"):
        services.invitation_send(acting_user=people.staff, organization=people.org_a, email="x@a.example",
                                 role=MembershipRole.ADMIN)
    assert not Invitation.objects.exists()


def test_reactivating_is_audited_and_serves_the_client_again(people):
    offboard(people.org_a)
    assert services.organization_reactivate(acting_user=people.staff, organization=people.org_a) is True
    assert services.organization_reactivate(acting_user=people.staff, organization=people.org_a) is False
    assert ClientOrganization.objects.get(pk=people.org_a.pk).offboarded_at is None
    assert AuditEvent.objects.filter(action="organization.reactivate").count() == 1


# --- the command ------------------------------------------------------------------------------------------------------


def test_the_dry_run_prints_what_would_go_and_changes_nothing(people, capsys):
    audit_rows = AuditEvent.objects.count()
    call_command("offboard_client", people.org_a.slug, "--reason", REASON, "--dry-run")
    out = capsys.readouterr().out
    assert f"{people.org_a.slug}: would delete 0 connection(s)" in out and "remove 1 member(s)" in out
    assert "Dry run: nothing changed" in out
    assert ClientOrganization.objects.get(pk=people.org_a.pk).offboarded_at is None
    assert ClientMembership.objects.filter(organization=people.org_a).exists()
    assert AuditEvent.objects.count() == audit_rows


def test_the_command_offboards_each_slug_once(people, capsys):
    call_command("offboard_client", people.org_a.slug, people.org_b.slug, "--reason", REASON)
    call_command("offboard_client", people.org_a.slug, "--reason", REASON)
    out = capsys.readouterr().out
    assert "Offboarded 2 of 2 organization(s)." in out
    assert "offboarded already" in out and "Offboarded 0 of 1 organization(s)." in out
    assert offboard_audits(people.org_a) == offboard_audits(people.org_b) == 1


def test_the_command_refuses_unknown_slugs_and_changes_nothing(people):
    with pytest.raises(CommandError, match="nope"):
        call_command("offboard_client", people.org_a.slug, "nope", "--reason", REASON)
    assert ClientOrganization.objects.get(pk=people.org_a.pk).offboarded_at is None


# --- the admin ------------------------------------------------------------------------------------------------------


def offboard_url(organization: ClientOrganization) -> str:
    return f"/admin/tenants/clientorganization/{organization.pk}/offboard/"


def test_staff_offboard_from_the_changelist_through_a_confirmation_page(people):
    client = Client()
    client.force_login(people.staff)
    response = client.post("/admin/tenants/clientorganization/",
                           {"action": "offboard", "_selected_action": [people.org_a.pk]})
    assert response.status_code == 302 and response["Location"] == offboard_url(people.org_a)

    page = client.get(offboard_url(people.org_a))
    assert page.status_code == 200
    text = page.content.decode()
    assert "1 member(s) lose access" in text and "deleting them" in text.lower()
    assert ClientOrganization.objects.get(pk=people.org_a.pk).offboarded_at is None  # GET changes nothing

    assert client.post(offboard_url(people.org_a), {"reason": ""}).status_code == 200  # the reason is required
    assert ClientOrganization.objects.get(pk=people.org_a.pk).offboarded_at is None
    response = client.post(offboard_url(people.org_a), {"reason": REASON})
    assert response.status_code == 302
    assert ClientOrganization.objects.get(pk=people.org_a.pk).offboarded_at is not None
    assert AuditEvent.objects.get(action="organization.offboard").actor == people.staff

    changelist = client.get("/admin/tenants/clientorganization/?offboarded=yes").content.decode()
    assert f'title="{REASON}">Offboarded</span>' in changelist  # the health column's badge says why
    assert people.org_a.name in changelist and people.org_b.name not in changelist


def test_non_staff_and_staff_without_change_permission_cannot_offboard(people):
    client_admin = Client()
    client_admin.force_login(people.admin_a)
    response = client_admin.post(offboard_url(people.org_a), {"reason": REASON})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    viewer = Client()
    viewer.force_login(factories.isv_staff("viewer", permissions=False))
    assert viewer.post(offboard_url(people.org_a), {"reason": REASON}).status_code == 403
    assert ClientOrganization.objects.get(pk=people.org_a.pk).offboarded_at is None


# --- beat fan-outs and the dashboard -----------------------------------------------------------------------------------


@pytest.fixture
def two_ready(people):
    """A and B look consented and connected to an account, each with a completed envelope without documents."""
    for organization, account in ((people.org_a, str(uuid.uuid4())), (people.org_b, str(uuid.uuid4()))):
        ClientOrganization.objects.filter(pk=organization.pk).update(account_id=account, base_uri="https://demo.example")
        organization.system_user.__class__.objects.filter(organization=organization).update(
            consent_status=ConsentStatus.GRANTED)
        Envelope.objects.create(organization=organization, envelope_id=str(uuid.uuid4()), environment="sandbox",
                                status="completed", created_via="connect")
    return people


# A connection whose refresh token expires today: the beat refresh picks it up.
DUE_CONNECTION = {"environment": "sandbox", "docusign_user_id": str(uuid.uuid4()), "scopes": "signature",
                  "expires_at": timezone.now(), "refresh_expires_at": timezone.now()}


def queued_ids(task, fan_out, *args) -> list:
    with mock.patch.object(task, "delay") as delay:
        fan_out(*args)
    return [call.args[0] for call in delay.call_args_list]


def test_the_beat_fan_outs_skip_an_offboarded_organization(two_ready):
    a, b = two_ready.org_a, two_ready.org_b
    offboard(a)
    # A connection stored by a sign-in that raced the offboarding: its refresh is still not queued.
    DocuSignCredential.objects.create(organization=a, user=two_ready.admin_a, **DUE_CONNECTION)
    fresh = DocuSignCredential.objects.create(organization=b, user=two_ready.admin_b, **DUE_CONNECTION)

    assert queued_ids(tasks_envelopes.sync_organization, tasks_envelopes.sync_all_organizations) == [b.pk]
    assert queued_ids(tasks_connect.republish_failures, tasks_connect.republish_failures_all) == [b.pk]
    assert queued_ids(tasks_setup.account_setup_check_task, tasks_setup.account_setup_check_all) == [b.pk]
    assert queued_ids(tasks.check_consent_task, tasks.check_consent_bulk, [a.pk, b.pk]) == [b.pk]
    assert queued_ids(tasks_envelopes.download_envelope_documents, tasks_envelopes.download_missing_documents) == [b.pk]
    assert queued_ids(tasks_credentials.refresh_credential, tasks_credentials.refresh_expiring_credentials) == [
        str(fresh.pk)]


def test_the_dashboard_does_not_count_an_offboarded_organization_as_needing_attention(people):
    from tenants.models import SystemUser

    SystemUser.objects.filter(organization=people.org_a).update(consent_status=ConsentStatus.REVOKED)
    attention = [row.organization.pk for row in dashboard.attention_page(1).object_list]
    assert people.org_a.pk in attention

    offboard(people.org_a)

    attention = [row.organization.pk for row in dashboard.attention_page(1).object_list]
    assert people.org_a.pk not in attention and people.org_b.pk in attention
    assert sum(t.count for t in dashboard.health_tallies()) == 1
    assert sum(t.count for t in dashboard.onboarding_tallies()) == 1


# --- Staff's direct paths to DocuSign refuse an offboarded client -----------------------------------------------


@pytest.mark.parametrize("command", [["check_consent"], ["setup_docusign_account", "--dry-run"], ["sync_envelopes"]])
def test_commands_refuse_an_offboarded_client_by_name_and_leave_it_out_of_all(people, command):
    offboard(people.org_a)
    with pytest.raises(CommandError, match="left \\(offboarded\\)"):
        call_command(*command, "--org", people.org_a.slug)
    with pytest.raises(CommandError, match="left \\(offboarded\\)"):  # named with an active one: nothing runs
        call_command(*command, "--org", people.org_b.slug, people.org_a.slug)

    assert list(selected_organizations({"all": True})) == [people.org_b]  # what every --all command iterates
    assert people.org_a in selected_organizations({"org": [people.org_a.slug]}, include_offboarded=True)


def test_the_consent_start_and_return_pages_404_for_an_offboarded_client(people):
    staff = Client()
    staff.force_login(people.staff)
    start = reverse("docusign:consent_start", args=[people.org_a.slug, "individual"])
    assert staff.get(start).status_code == 302  # active: off to DocuSign's consent page

    offboard(people.org_a)
    assert staff.get(start).status_code == 404


def test_the_setup_action_skips_an_offboarded_client(people):
    for organization in (people.org_a, people.org_b):
        ClientOrganization.objects.filter(pk=organization.pk).update(account_id=str(uuid.uuid4()))
    offboard(people.org_a)
    staff = Client()
    staff.force_login(people.staff)
    page = staff.get(
        reverse("admin:tenants_clientorganization_setup") + f"?ids={people.org_a.pk},{people.org_b.pk}")
    text = page.content.decode()
    assert "Skipped: no DocuSign account yet, or offboarded (1)" in text
    assert text.index(people.org_a.name) > text.index("Skipped")
