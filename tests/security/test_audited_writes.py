"""The writes that used to happen outside a named service now go through one: atomic, audited with actor and the
changed fields, and bad input changes nothing (tests/test_orm_writes.py keeps them there)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from docusign_integration.envelopes import documents
from docusign_integration.keys import encryption, key_rotation
from docusign_integration.models import DocuSignCredential, Envelope, OAuthState, SignedDocument
from docusign_integration.oauth import account_server as oauth
from docusign_integration.oauth import credentials, state
from docusign_integration.oauth.account_server import TokenResponse, UserAccount, UserInfo
from tenants.models import AuditEvent
from tests import factories
from tests.security.test_key_fingerprint import key_id, new_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def organization():
    return factories.organization("Acme", account_id=str(uuid.uuid4()))


def account(name: str) -> UserAccount:
    return UserAccount(str(uuid.uuid4()), name, "https://demo.docusign.net", True)


@pytest.fixture
def connection(organization) -> DocuSignCredential:
    admin = factories.client_admin("it-admin", organization)
    tokens = TokenResponse(access_token="test-access-token", expires_in=3600, refresh_token="test-refresh-token",
                           scope="signature extended")
    person = UserInfo(sub=str(uuid.uuid4()), name="Client Admin", email="admin@acme.example", accounts=[account("Old")])
    return credentials.credential_store(acting_user=admin, organization=organization, tokens=tokens, userinfo=person,
                                        environment="sandbox")


def test_fetch_userinfo_reads_and_records_nothing(connection, monkeypatch):
    """Before: reading userinfo saved the accounts it listed on the connection, unaudited."""
    now = UserInfo(sub=connection.docusign_user_id, name="Client Admin", email="admin@acme.example",
                   accounts=[account("New")])
    monkeypatch.setattr(oauth, "userinfo", lambda environment, access_token: now)
    audits = AuditEvent.objects.count()

    assert credentials.fetch_userinfo(connection) is now

    assert [a["account_name"] for a in DocuSignCredential.objects.get(pk=connection.pk).accounts] == ["Old"]
    assert AuditEvent.objects.count() == audits


def test_the_accounts_update_is_audited_with_its_actor_and_the_account_ids(connection):
    new = account("New")
    now = UserInfo(sub=connection.docusign_user_id, name="Client Admin", email="admin@acme.example", accounts=[new])
    old_ids = [a["account_id"] for a in connection.accounts]

    assert credentials.credential_accounts_update(acting_user=connection.user, credential=connection, userinfo=now)
    assert not credentials.credential_accounts_update(acting_user=connection.user, credential=connection, userinfo=now)

    assert [a["account_name"] for a in DocuSignCredential.objects.get(pk=connection.pk).accounts] == ["New"]
    [row] = AuditEvent.objects.filter(action="docusign_credential.accounts")
    assert (row.actor, row.organization_id) == (connection.user, connection.organization_id)
    assert (row.before, row.after) == ({"accounts": old_ids}, {"accounts": [new.account_id]})


def test_another_users_userinfo_changes_nothing(connection):
    stranger = UserInfo(sub=str(uuid.uuid4()), name="Someone", email="x@example.com", accounts=[account("Theirs")])
    with pytest.raises(ValueError):
        credentials.credential_accounts_update(acting_user=None, credential=connection, userinfo=stranger)
    assert [a["account_name"] for a in DocuSignCredential.objects.get(pk=connection.pk).accounts] == ["Old"]
    assert not AuditEvent.objects.filter(action="docusign_credential.accounts").exists()


def oauth_state(organization) -> OAuthState:
    now = timezone.now()
    return OAuthState.objects.create(state_hash=uuid.uuid4().hex * 2, flow="authorization_code", environment="sandbox",
                                     organization_id=organization.pk, session_key_hash="0" * 64,
                                     created_at=now, expires_at=now + timedelta(minutes=10))


def test_cancelling_oauth_states_is_audited_and_touches_only_that_organization(organization):
    other = factories.organization("Globex", account_id=str(uuid.uuid4()))
    oauth_state(organization), oauth_state(organization), oauth_state(other)
    staff = factories.isv_staff()

    assert state.oauth_states_cancel(acting_user=staff, organization=organization) == 2
    assert state.oauth_states_cancel(acting_user=staff, organization=organization) == 0  # nothing left: no audit row

    assert list(OAuthState.objects.values_list("organization_id", flat=True)) == [other.pk]
    [row] = AuditEvent.objects.filter(action="oauth_state.cancel")
    assert (row.actor, row.organization, row.after) == (staff, organization, {"oauth_states_cancelled": 2})


def completed_envelope(organization, status: str = "completed") -> Envelope:
    return Envelope.objects.create(organization=organization, environment="sandbox", envelope_id=str(uuid.uuid4()),
                                   status=status)


def test_retrying_failed_documents_is_audited_per_document(organization):
    envelope = completed_envelope(organization)
    failed = SignedDocument.objects.create(envelope=envelope, kind="combined", state="failed", last_error="Too large")
    stored = SignedDocument.objects.create(envelope=envelope, kind="certificate", state="stored")

    assert documents.documents_retry_failed(acting_user=None, envelopes=[envelope]) == 1

    failed.refresh_from_db(), stored.refresh_from_db()
    assert (failed.state, failed.last_error, stored.state) == ("pending", "", "stored")
    [row] = AuditEvent.objects.filter(action="signed_document.retry")
    assert (row.actor, row.organization) == (None, organization)
    assert (row.before, row.after) == ({"state": "failed", "last_error": "Too large"}, {"state": "pending", "last_error": ""})


def test_retrying_with_an_envelope_that_is_not_completed_changes_nothing(organization):
    envelope = completed_envelope(organization)
    failed = SignedDocument.objects.create(envelope=envelope, kind="combined", state="failed", last_error="Too large")
    with pytest.raises(ValidationError):
        documents.documents_retry_failed(acting_user=None, envelopes=[envelope, completed_envelope(organization, "sent")])
    failed.refresh_from_db()
    assert failed.state == "failed"
    assert not AuditEvent.objects.filter(action="signed_document.retry").exists()


def test_reencryption_is_audited_per_batch_and_a_dry_run_changes_nothing(connection, settings):
    old = connection.refresh_token_ciphertext
    settings.PORTAL_ENCRYPTION_KEYS = [new_key(), *settings.PORTAL_ENCRYPTION_KEYS]
    entry = next(e for e in encryption.registered() if e.model is DocuSignCredential)

    assert key_rotation.secrets_reencrypt(acting_user=None, entry=entry, pks=[connection.pk], dry_run=True) == 2
    assert DocuSignCredential.objects.get(pk=connection.pk).refresh_token_ciphertext == old
    assert not AuditEvent.objects.filter(action="encryption.reencrypt").exists()

    assert key_rotation.secrets_reencrypt(acting_user=None, entry=entry, pks=[connection.pk]) == 2
    rotated = DocuSignCredential.objects.get(pk=connection.pk)
    assert rotated.get_refresh_token() == "test-refresh-token"
    [row] = AuditEvent.objects.filter(action="encryption.reencrypt")
    assert row.after == {"secrets": 2, "key_id": key_id(settings.PORTAL_ENCRYPTION_KEYS[0])}
