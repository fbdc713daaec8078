"""Provisioning and invitations: bad input stores nothing, good input is audited and emailed."""

from __future__ import annotations

import io
import stat
import uuid

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from tenants import services
from tenants.models import AuditEvent, ClientOrganization, Invitation, OnboardingStatus
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("field", "value"), [
    ("system_user_id", "system@acme.example"),
    ("system_user_id", "0a1b2c3d-4e5f-6789-abcd-ef012345678"),
    ("system_user_id", "０a1b2c3d-4e5f-6789-abcd-ef0123456789"),  # a full-width digit is not a GUID
    ("account_id", "not-a-guid"),
    ("system_user_email", "nobody"),
])
def test_malformed_input_is_rejected_with_a_clear_message_and_nothing_is_stored(field, value):
    kwargs = {"name": "Acme", "environment": "sandbox", "system_user_id": str(uuid.uuid4()),
              "system_user_email": "system@acme.example", field: value}

    with pytest.raises(ValidationError) as error:
        services.organization_provision(acting_user=None, **kwargs)

    assert field in error.value.message_dict
    assert not ClientOrganization.objects.exists() and not AuditEvent.objects.exists()


def test_an_account_already_linked_elsewhere_cannot_be_provisioned_again():
    account_id = str(uuid.uuid4())
    factories.organization("First", account_id=account_id)

    with pytest.raises(ValidationError, match="already linked to another client organization"):
        factories.organization("Second", account_id=account_id)


def test_provisioning_is_audited_with_who_did_it():
    staff = factories.isv_staff()
    organization = services.organization_provision(
        acting_user=staff, name="Acme Corp", environment="sandbox", system_user_id=str(uuid.uuid4()).upper(),
        system_user_email="system@acme.example",
    )

    event = AuditEvent.objects.get(organization=organization)
    assert (event.action, event.actor, organization.slug) == ("organization.provision", staff, "acme-corp")
    assert event.after["system_user"]["user_id"] == organization.system_user.user_id


def test_an_invitation_is_emailed_with_a_single_link_whose_token_is_stored_only_hashed(django_capture_on_commit_callbacks):
    organization = factories.organization("Acme")

    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_send(acting_user=None, organization=organization, email="cio@acme.example",
                                              role="admin")

    [message] = mail.outbox
    link = next(line for line in message.body.splitlines() if "/onboarding/invitations/" in line)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert message.to == ["cio@acme.example"]
    assert Invitation.find(token) == invitation and invitation.token_hash != token
    assert Invitation.find(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    organization.refresh_from_db()
    assert organization.onboarding_status == OnboardingStatus.INVITED
    assert token not in str(AuditEvent.objects.filter(action="invitation.send").values())


def test_an_invitation_is_not_sent_before_the_transaction_commits(django_capture_on_commit_callbacks):
    organization = factories.organization("Acme")

    with django_capture_on_commit_callbacks(execute=False):
        services.invitation_send(acting_user=None, organization=organization, email="cio@acme.example", role="admin")

    assert mail.outbox == []


def test_provision_client_command_stores_nothing_when_an_invitation_address_is_bad():
    with pytest.raises(CommandError, match="email"):
        call_command("provision_client", "Acme", "--environment", "sandbox", "--system-user-id", str(uuid.uuid4()),
                     "--system-user-email", "system@acme.example", "--invite", "not-an-email")

    assert not ClientOrganization.objects.exists()


def test_provision_client_command_prints_both_consent_links():
    out = io.StringIO()
    call_command("provision_client", "Acme", "--environment", "sandbox", "--system-user-id", str(uuid.uuid4()),
                 "--system-user-email", "system@acme.example", stdout=out)

    assert "/docusign/consent/acme/individual/" in out.getvalue()
    assert "/docusign/consent/acme/admin/" in out.getvalue()


def test_docusign_keypair_writes_a_private_key_only_its_owner_can_read_and_never_overwrites(tmp_path):
    path = tmp_path / "key.pem"
    out = io.StringIO()

    call_command("docusign_keypair", str(path), stdout=out, stderr=io.StringIO())

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "PRIVATE KEY" in path.read_text() and out.getvalue().startswith("-----BEGIN PUBLIC KEY-----")
    before = path.read_bytes()
    with pytest.raises(CommandError, match="refusing to overwrite"):
        call_command("docusign_keypair", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert path.read_bytes() == before
