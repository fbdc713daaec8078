"""docs/security.md TI-4: the connection admin is read-only and shows tokens masked to their last 4 characters."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from docusign_integration.models import DocuSignCredential
from tests import factories
from tests.onboarding.conftest import connect


@pytest.fixture
def credential(sandbox, people, admin_client) -> DocuSignCredential:
    connect(admin_client, sandbox, people.org_a.slug, "sender@initech.example")
    return DocuSignCredential.objects.get(organization=people.org_a)


@pytest.fixture
def superuser_client() -> Client:
    client = Client()
    client.force_login(factories.user("root", is_staff=True, is_superuser=True))
    return client


def test_the_change_page_shows_only_the_last_four_characters_of_each_token(credential, superuser_client):
    page = superuser_client.get(reverse("admin:docusign_integration_docusigncredential_change", args=[credential.pk]))
    text = page.content.decode()

    assert page.status_code == 200
    for token, ciphertext in ((credential.get_access_token(), credential.access_token_ciphertext),
                              (credential.get_refresh_token(), credential.refresh_token_ciphertext)):
        assert "…" + token[-4:] in text
        assert token not in text and ciphertext not in text


def test_connections_cannot_be_added_changed_or_deleted_in_the_admin(credential, superuser_client):
    assert superuser_client.get(reverse("admin:docusign_integration_docusigncredential_add")).status_code == 403
    delete = reverse("admin:docusign_integration_docusigncredential_delete", args=[credential.pk])
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403
    assert DocuSignCredential.objects.filter(pk=credential.pk).exists()


def test_searching_by_a_token_finds_nothing(credential, superuser_client):
    changelist = reverse("admin:docusign_integration_docusigncredential_changelist")

    by_token = superuser_client.get(changelist, {"q": credential.get_access_token()})
    by_email = superuser_client.get(changelist, {"q": "sender@initech.example"})

    assert by_token.context["cl"].result_count == 0
    assert by_email.context["cl"].result_count == 1
