"""Every staff action has a command: consent links and invitations for an existing organization."""

from __future__ import annotations

import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from tenants.models import Invitation
from tests import factories


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_consent_links_prints_both_paths_with_their_prerequisites():
    organization = factories.organization("Acme Corp")

    output = run("consent_links", organization.slug)

    assert f"/docusign/consent/{organization.slug}/individual/" in output
    assert f"/docusign/consent/{organization.slug}/admin/" in output
    assert "claimed" in output  # organization admin consent needs a claimed domain


@pytest.mark.django_db
def test_consent_links_refuses_an_unknown_organization():
    with pytest.raises(CommandError, match="No client organization with slug nope"):
        run("consent_links", "nope")


@pytest.mark.django_db(transaction=True)
def test_invite_client_admin_emails_each_address_an_invitation():
    organization = factories.organization("Acme Corp")

    output = run("invite_client_admin", organization.slug, "ann@acme.example", "bob@acme.example")

    assert "Invited 2 people" in output
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@acme.example", "bob@acme.example"]
    assert Invitation.objects.filter(organization=organization).count() == 2


@pytest.mark.django_db(transaction=True)
def test_invite_client_admin_with_one_bad_address_sends_and_stores_nothing():
    organization = factories.organization("Acme Corp")

    with pytest.raises(CommandError):
        run("invite_client_admin", organization.slug, "ann@acme.example", "not-an-email")

    assert mail.outbox == []
    assert not Invitation.objects.exists()
