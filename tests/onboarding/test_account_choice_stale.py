"""Choosing the DocuSign account reads the organization under a lock, never from the caller's possibly stale copy."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from docusign_integration.oauth.account_server import UserAccount
from docusign_integration.setup.models import AccountSetupState, SetupStatus
from tenants import readiness, services
from tenants.models import AuditEvent, ClientOrganization
from tests import factories

pytestmark = pytest.mark.django_db


def account(name: str) -> UserAccount:
    return UserAccount(str(uuid.uuid4()), name, "https://demo.docusign.net", True)


def test_a_second_admin_with_a_stale_page_cannot_overwrite_the_first_admins_choice():
    organization = factories.organization("Acme Corp")
    first, second = factories.client_admin("admin-a", organization), factories.client_admin("admin-b", organization)
    stale = ClientOrganization.objects.get(pk=organization.pk)  # loaded by admin B's request before A chose
    chosen, other = account("Acme HR"), account("Acme General")

    services.account_choose(acting_user=first, organization=organization, account=chosen)
    with pytest.raises(ValidationError, match="already uses the DocuSign account Acme HR"):
        services.account_choose(acting_user=second, organization=stale, account=other)

    assert ClientOrganization.objects.get(pk=organization.pk).account_id == chosen.account_id
    [row] = AuditEvent.objects.filter(action="account.choose")
    assert (row.actor, row.after["account_id"]) == (first, chosen.account_id)


def test_the_choice_is_audited_with_the_changed_fields_and_updates_the_callers_copy():
    organization = factories.organization("Acme Corp")
    admin = factories.client_admin("admin-a", organization)
    chosen = account("Acme HR")

    services.account_choose(acting_user=admin, organization=organization, account=chosen)

    assert (organization.account_id, organization.account_name, organization.onboarding_status) == (
        chosen.account_id, "Acme HR", "connected")
    row = AuditEvent.objects.get(action="account.choose")
    assert row.before == {"account_id": None, "account_name": "", "base_uri": "", "onboarding_status": "provisioned",
                          "account_source": ""}
    assert row.after == {"account_id": chosen.account_id, "account_name": "Acme HR",
                         "base_uri": "https://demo.docusign.net", "onboarding_status": "connected",
                         "account_source": "client"}


def test_choosing_another_account_makes_its_setup_a_step_to_do_again_before_sending():
    organization = factories.organization("Acme Corp")
    admin = factories.client_admin("admin-a", organization)
    services.account_choose(acting_user=admin, organization=organization, account=account("Acme HR"))
    AccountSetupState.objects.create(organization=organization, status=SetupStatus.DRIFTED, pushed_at=timezone.now())
    assert readiness.facts_of(organization).setup_done  # set up once, drifted since: it may send

    services.account_choose(acting_user=admin, organization=organization, account=account("Acme General"))

    state = AccountSetupState.objects.get(organization=organization)
    assert (state.status, state.pushed_at) == (SetupStatus.UNKNOWN, None)  # the old account's setup says nothing of this one
    assert not readiness.facts_of(organization).setup_done
