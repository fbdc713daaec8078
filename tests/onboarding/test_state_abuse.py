"""docs/security.md OA-1/OA-4: a callback with an abused state gets 400, and no token request reaches DocuSign."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from docusign_integration.models import DocuSignCredential, OAuthState
from tests import factories
from tests.onboarding.conftest import DocuSignBrowser, start_connect, token_requests

pytestmark = pytest.mark.usefixtures("sandbox")


@pytest.fixture
def approved(sandbox, people, admin_client) -> dict[str, str]:
    """A genuine code and state from DocuSign, not yet delivered to the portal."""
    return DocuSignBrowser(sandbox).approve(start_connect(admin_client, people.org_a.slug), "sender@initech.example")


def assert_refused(response, before: int) -> None:
    assert response.status_code == 400
    assert b"cannot be used" in response.content
    assert token_requests() == before
    assert not DocuSignCredential.objects.exists()


def test_a_state_from_another_session_of_the_same_user_is_refused(approved, people):
    other_session = Client()
    other_session.force_login(people.admin_a)
    before = token_requests()

    assert_refused(other_session.get("/docusign/callback/", approved), before)


def test_a_state_delivered_to_another_users_session_is_refused(approved, people):
    victim = Client()
    victim.force_login(factories.client_admin("admin-a2", people.org_a))
    before = token_requests()

    assert_refused(victim.get("/docusign/callback/", approved), before)


def test_a_replayed_state_is_refused(approved, admin_client):
    assert admin_client.get("/docusign/callback/", approved).status_code == 302
    DocuSignCredential.objects.all().delete()
    before = token_requests()

    assert_refused(admin_client.get("/docusign/callback/", approved), before)


def test_an_expired_state_is_refused(approved, admin_client):
    # Ten minutes and a second later, as far as the state record is concerned.
    OAuthState.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    before = token_requests()

    assert_refused(admin_client.get("/docusign/callback/", approved), before)


def test_a_tampered_state_is_refused(approved, admin_client):
    tampered = approved["state"][:-1] + ("A" if approved["state"][-1] != "A" else "B")
    before = token_requests()

    assert_refused(admin_client.get("/docusign/callback/", {**approved, "state": tampered}), before)


def test_a_missing_state_is_refused(approved, admin_client):
    before = token_requests()

    assert_refused(admin_client.get("/docusign/callback/", {"code": approved["code"]}), before)
