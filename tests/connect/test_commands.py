"""Commands: HMAC keys from stdin, replaying stored messages, and getting DocuSign to republish what failed."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from docusign_integration.models import ConnectEvent, ConnectHMACKey, Envelope
from docusign_sandbox import connect_delivery, envelope_state
from docusign_sandbox.consent import grant_individual
from docusign_sandbox.models import ConnectDelivery, IntegrationKey, User
from docusign_sandbox.seed import ACME
from tests import factories
from tests.connect.conftest import fixture_body
from tests.connect.sandbox_world import acme, connect_configuration, draft_envelope, import_partner_keys

SECRET = "CANARY-command-secret-5b1d"


def run(*args: str, stdin: str = "", monkeypatch=None) -> str:
    out = io.StringIO()
    if monkeypatch is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_a_key_is_added_from_stdin_listed_masked_and_retired(monkeypatch):
    added = run("connect_hmac_key", "add", "--label", "Partner key 2", stdin=SECRET + "\n", monkeypatch=monkeypatch)
    key = ConnectHMACKey.objects.get()
    assert str(key.pk) in added and key.get_secret() == SECRET and key.scope == "partner"

    listing = run("connect_hmac_key", "list")
    assert "…5b1d" in listing and SECRET not in listing and "active" in listing

    assert "Retired" in run("connect_hmac_key", "retire", str(key.pk))
    key.refresh_from_db()
    assert not key.active


@pytest.mark.django_db
def test_a_message_for_an_account_onboarded_later_is_applied_on_replay(deliver, partner_key):
    deliver.signed(fixture_body("envelope-completed"))  # no organization has the account yet
    assert ConnectEvent.objects.get().state == "quarantined"
    organization = factories.organization("Acme Corp", account_id=ACME.account_id)

    assert "Would replay 1" in run("replay_connect_events", "--quarantined", "--dry-run")
    output = run("replay_connect_events", "--quarantined", "--organization", organization.slug)

    assert "1 applied" in output
    assert ConnectEvent.objects.get().organization == organization
    assert Envelope.objects.get(organization=organization).status == "completed"


@pytest.mark.django_db(transaction=True)
def test_messages_docusign_failed_to_deliver_arrive_after_republishing(sandbox, live_server, settings, eager_celery,
                                                                      monkeypatch):
    settings.DOCUSIGN_SANDBOX_CONNECT_TIMEOUT = 10
    admin = User.objects.get(email="admin@acme.example")  # an account admin, as GET /connect/failures requires
    grant_individual(admin, IntegrationKey.objects.get(client_id=settings.DOCUSIGN_INTEGRATION_KEY),
                     {"signature", "impersonation"})
    organization = factories.organization("Acme Corp", account_id=acme().account_id, system_user_id=admin.user_id)
    organization.base_uri = sandbox.url
    organization.save(update_fields=["base_uri"])
    connect_configuration(acme(), f"{live_server.url}/docusign/connect/")
    envelope = draft_envelope(acme())
    envelope_state.send(envelope)  # the portal has no HMAC key yet: every message is refused with 401
    assert connect_delivery.flush(30)
    assert set(ConnectDelivery.objects.values_list("status", flat=True)) == {ConnectDelivery.FAILED}
    assert not ConnectEvent.objects.exists()

    import_partner_keys(sandbox.seed)
    # The in-memory test database is one connection shared by every thread: hold the republished messages until the
    # sandbox has finished answering the PUT, so its request log and the listener never write at the same moment.
    republished: list[int] = []
    monkeypatch.setattr(connect_delivery, "enqueue_on_commit", republished.append)
    output = run("replay_connect_events", "--from-docusign", "--organization", organization.slug)
    for delivery_id in republished:
        connect_delivery.enqueue(delivery_id)
    assert connect_delivery.flush(30)

    assert "DocuSign queued 2 failed message(s)" in output  # envelope-sent and recipient-sent
    assert set(ConnectEvent.objects.values_list("event", "state")) == {("envelope-sent", "applied"),
                                                                      ("recipient-sent", "applied")}
    assert Envelope.objects.get(envelope_id=envelope.envelope_id).status == "sent"
