"""The connection's token lifecycle against the sandbox: proactive refresh, rotation, refusal, beat refresh, tampering."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from docusign_integration.keys.encryption import DecryptionError
from docusign_integration.models import DocuSignCredential
from docusign_integration.oauth import credentials
from docusign_integration.oauth.models.credentials import CredentialStatus
from docusign_integration.oauth.tasks import refresh_expiring_credentials
from tests.onboarding.conftest import connect, token_requests
from tests.tenants.sandbox_pages import revoke_individual


@pytest.fixture
def credential(sandbox, people, admin_client) -> DocuSignCredential:
    connect(admin_client, sandbox, people.org_a.slug, "sender@initech.example")
    return DocuSignCredential.objects.get(organization=people.org_a)


def test_a_fresh_access_token_is_used_without_asking_docusign(credential):
    before = token_requests()

    token = credentials.get_valid_access_token(credential, now=credential.expires_at - timedelta(minutes=6))

    assert token == credential.get_access_token()
    assert token_requests() == before


def test_the_token_is_refreshed_five_minutes_before_expiry_and_the_newest_refresh_token_is_kept(credential):
    old_access, old_refresh = credential.get_access_token(), credential.get_refresh_token()
    before = token_requests()

    token = credentials.get_valid_access_token(credential, now=credential.expires_at - timedelta(minutes=4))

    stored = DocuSignCredential.objects.get(pk=credential.pk)
    assert token_requests() == before + 1
    assert token == stored.get_access_token() != old_access
    assert stored.get_refresh_token() != old_refresh
    assert credentials.get_valid_access_token(stored) == token and token_requests() == before + 1


def test_a_revoked_connection_needs_reconnecting_and_is_not_retried(sandbox, credential, admin_client, people):
    revoke_individual(sandbox, "sender@initech.example")
    expired = credential.expires_at

    with pytest.raises(credentials.ReconnectRequired):
        credentials.get_valid_access_token(credential, now=expired)
    after_refusal = token_requests()
    with pytest.raises(credentials.ReconnectRequired):
        credentials.get_valid_access_token(credential, now=expired)

    assert token_requests() == after_refusal
    assert DocuSignCredential.objects.get(pk=credential.pk).status == CredentialStatus.NEEDS_RECONNECT
    page = admin_client.get(f"/onboarding/{people.org_a.slug}/").content.decode()
    assert "Needs reconnecting" in page and "Reconnect to DocuSign" in page


@pytest.mark.usefixtures("eager_celery")
def test_the_beat_task_refreshes_connections_whose_refresh_token_expires_within_ten_days(credential):
    soon = timezone.now() + timedelta(days=9)
    DocuSignCredential.objects.filter(pk=credential.pk).update(refresh_expires_at=soon)
    before = token_requests()

    assert refresh_expiring_credentials.apply().get() == 1

    stored = DocuSignCredential.objects.get(pk=credential.pk)
    assert token_requests() == before + 1
    assert stored.refresh_expires_at > timezone.now() + timedelta(days=29)
    assert refresh_expiring_credentials.apply().get() == 0


def test_a_tampered_ciphertext_is_a_clear_error_never_garbage(credential):
    ciphertext = credential.access_token_ciphertext
    flipped = ciphertext[:-2] + ("A" if ciphertext[-2] != "A" else "B") + ciphertext[-1]
    DocuSignCredential.objects.filter(pk=credential.pk).update(access_token_ciphertext=flipped)

    with pytest.raises(DecryptionError, match="altered or belongs to another record"):
        credentials.get_valid_access_token(DocuSignCredential.objects.get(pk=credential.pk))


def test_a_ciphertext_copied_to_another_connection_does_not_decrypt(credential, people):
    copy = DocuSignCredential.objects.get(pk=credential.pk)
    copy.pk, copy.organization = None, people.org_b
    copy.id = DocuSignCredential._meta.pk.default()
    copy.save()

    with pytest.raises(DecryptionError):
        copy.get_refresh_token()


@pytest.mark.postgres
def test_fifty_concurrent_callers_on_an_expired_token_cause_one_refresh(credential):
    DocuSignCredential.objects.filter(pk=credential.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    before = token_requests()
    tokens, failures = [], []
    barrier = threading.Barrier(50)

    def caller() -> None:
        try:
            barrier.wait()
            tokens.append(credentials.get_valid_access_token(DocuSignCredential.objects.get(pk=credential.pk)))
        except Exception as exc:  # collected and asserted on below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=caller) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert failures == []
    assert token_requests() == before + 1
    assert len(tokens) == 50 and len(set(tokens)) == 1
    assert DocuSignCredential.objects.get(pk=credential.pk).get_access_token() == tokens[0]
