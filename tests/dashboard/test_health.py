"""An organization's health, from the rows real flows leave behind: consent, setup, deliveries, connections, limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.db.models import Count
from django.utils import timezone

from docusign_integration.client import errors
from docusign_integration.client.rest import AccountRef, rest_call
from docusign_integration.consent.system_user import consent_verify
from docusign_integration.models import AccountRateLimit
from docusign_integration.oauth import credentials, tokens
from docusign_integration.setup.account_setup import account_setup_push, account_setup_status
from docusign_sandbox.models import ConnectConfiguration
from tenants.health import Level, Topic, needs_attention, organization_health, with_health
from tenants.models import ClientOrganization
from tests import factories
from tests.dashboard.conftest import post_deliveries
from tests.onboarding.conftest import connect
from tests.setup.conftest import consented_organization
from tests.tenants.sandbox_pages import revoke_individual


def health_of(organization: ClientOrganization, **kwargs):
    return organization_health(with_health(ClientOrganization.objects.filter(pk=organization.pk), **kwargs).get())


def sentences(health, topic: Topic) -> list[str]:
    return [f.sentence for f in health.findings if f.topic is topic]


@pytest.mark.django_db
def test_a_new_organization_needs_consent_and_says_whom_to_send_the_link():
    organization = factories.organization("Umbrella", system_user_email="robot@umbrella.example")

    health = health_of(organization)

    assert health.level == Level.ATTENTION
    [consent] = sentences(health, Topic.CONSENT)
    assert "robot@umbrella.example" in consent and "Show consent links" in consent
    assert sentences(health, Topic.ACCOUNT) == [
        "No DocuSign account is linked yet: it is recorded when the system user's consent is verified."]
    assert {t.topic for t in health.topics if t.level == Level.OK} == {
        Topic.TOKENS, Topic.CONNECT, Topic.DELIVERIES, Topic.POLLING, Topic.RATE_LIMIT}


def test_a_consented_organization_is_ok_once_set_up_and_its_deliveries_are_counted(sandbox, partner_key, client):
    acme = consented_organization(sandbox, "admin@acme.example", "Acme")
    before_setup = health_of(acme)
    assert before_setup.level == Level.ATTENTION
    assert "Setup DocuSign account has not succeeded yet" in sentences(before_setup, Topic.CONNECT)[0]

    account_setup_push(acting_user=None, organization=acme)
    post_deliveries(client, acme, 3)

    loaded = with_health(ClientOrganization.objects.filter(pk=acme.pk)).get()
    assert organization_health(loaded).level == Level.OK
    assert organization_health(loaded).findings == ()
    assert loaded.health_deliveries == 3 and loaded.health_last_delivery_at is not None
    assert loaded.health_limit and loaded.health_remaining < loaded.health_limit  # headers the push's calls brought back


def test_a_configuration_changed_in_docusign_needs_attention_naming_the_fields(sandbox):
    acme = consented_organization(sandbox, "admin@acme.example", "Acme")
    account_setup_push(acting_user=None, organization=acme)
    stored = ConnectConfiguration.objects.get(account__account_id=acme.account_id)
    stored.body = {**stored.body, "includeHMAC": "false", "events": ["envelope-sent"]}
    stored.save()

    account_setup_status(organization=acme)

    health = health_of(acme)
    assert health.level == Level.ATTENTION
    [drift] = sentences(health, Topic.CONNECT)
    assert "(events, includeHMAC)" in drift and "run Setup DocuSign account" in drift


def test_a_deleted_connect_configuration_is_broken(sandbox):
    acme = consented_organization(sandbox, "admin@acme.example", "Acme")
    account_setup_push(acting_user=None, organization=acme)
    ConnectConfiguration.objects.filter(account__account_id=acme.account_id).delete()

    account_setup_status(organization=acme)

    health = health_of(acme)
    assert health.level == Level.BROKEN
    assert "Connect configuration is gone" in sentences(health, Topic.CONNECT)[0]


def test_revoked_consent_is_broken_and_says_to_send_the_link_again(sandbox):
    initech = consented_organization(sandbox, "sender@initech.example", "Initech")
    assert health_of(initech).level == Level.ATTENTION  # only Setup is missing

    revoke_individual(sandbox, "sender@initech.example")
    consent_verify(acting_user=None, organization=initech)

    health = health_of(initech)
    assert health.level == Level.BROKEN
    [revoked] = sentences(health, Topic.CONSENT)
    assert revoked.startswith("Consent was revoked") and "sender@initech.example" in revoked


def test_a_client_admin_connection_that_docusign_refuses_needs_reconnecting(sandbox, signed_in):
    people = factories.personas()
    admin_client = signed_in(people.admin_a)
    connect(admin_client, sandbox, people.org_a.slug, "sender@initech.example")
    credential = people.org_a.docusign_credentials.get()
    revoke_individual(sandbox, "sender@initech.example")
    with pytest.raises(credentials.ReconnectRequired):
        credentials.get_valid_access_token(credential, now=credential.expires_at)

    [reconnect] = sentences(health_of(people.org_a), Topic.TOKENS)

    assert reconnect.startswith("1 client admin connection to DocuSign need reconnecting")


def test_quarantined_deliveries_need_attention_for_24_hours(db, partner_key, client):
    organization = factories.organization("Hooli", account_id="0e6b7c52-9f0a-4b8e-8d1c-2a3b4c5d6e7f")
    post_deliveries(client, organization, 2, poison=2)

    health = health_of(organization)
    [quarantined] = sentences(health, Topic.DELIVERIES)
    assert quarantined.startswith("2 Connect messages in the last 24 h could not be applied")
    assert sentences(health_of(organization, now=timezone.now() + timedelta(hours=25)), Topic.DELIVERIES) == []


def test_messages_left_unprocessed_point_at_the_workers(db, partner_key, client):
    organization = factories.organization("Hooli", account_id="0e6b7c52-9f0a-4b8e-8d1c-2a3b4c5d6e7f")
    post_deliveries(client, organization, 2)  # stored and acknowledged; no worker runs in this test

    assert sentences(health_of(organization), Topic.DELIVERIES) == []
    [waiting] = sentences(health_of(organization, now=timezone.now() + timedelta(minutes=6)), Topic.DELIVERIES)
    assert waiting.startswith("2 Connect messages have waited over 5 minutes") and "Celery" in waiting


def test_low_rate_limit_headroom_needs_attention_and_a_lockout_is_broken(sandbox):
    acme = consented_organization(sandbox, "admin@acme.example", "Acme")
    requests.post(f"{sandbox.url}/_sandbox/rate-limit", json={"account_id": acme.account_id, "hourly_limit": 10},
                  timeout=5).raise_for_status()
    ref = AccountRef(acme.environment, acme.account_id, acme.base_uri)
    bearer = tokens.get_impersonation_token(acme.environment, acme.system_user.user_id)
    for _ in range(9):
        rest_call(ref, "GET", "/settings", bearer=bearer, idempotent=True)
    assert health_of(acme).level == Level.ATTENTION and sentences(health_of(acme), Topic.RATE_LIMIT) == []  # 1 of 10 left

    rest_call(ref, "GET", "/settings", bearer=bearer, idempotent=True)
    [low] = sentences(health_of(acme), Topic.RATE_LIMIT)
    assert low.startswith("Only 0 of 10 API calls are left until")

    with pytest.raises(errors.RateLimited):
        rest_call(ref, "GET", "/settings", bearer=bearer, idempotent=True)
    health = health_of(acme)
    assert health.level == Level.BROKEN
    assert sentences(health, Topic.RATE_LIMIT)[0].startswith("DocuSign's API rate limit for this account was reached")


@pytest.mark.django_db
def test_the_attention_list_holds_exactly_the_organizations_that_are_not_ok(partner_key, client):
    quiet = factories.organization("Quiet")
    hooli = factories.organization("Hooli", account_id="0e6b7c52-9f0a-4b8e-8d1c-2a3b4c5d6e7f")
    post_deliveries(client, hooli, 1, poison=1)
    everyone = with_health(ClientOrganization.objects.all())

    listed = list(needs_attention(ClientOrganization.objects.all()))

    assert [o.pk for o in listed] == [o.pk for o in sorted(everyone, key=lambda o: (-o.health_level, o.name))
                                      if organization_health(o).level != Level.OK]
    assert {o.pk for o in listed} == {quiet.pk, hooli.pk}
    assert [organization_health(o).level for o in listed] == [Level.ATTENTION, Level.ATTENTION]
    assert listed[0].pk == hooli.pk  # same level: by name


@pytest.mark.django_db
def test_a_rate_limit_counts_only_for_the_account_in_its_own_environment():
    account_id = "0e6b7c52-9f0a-4b8e-8d1c-2a3b4c5d6e7f"
    hooli = factories.organization("Hooli", account_id=account_id)  # a sandbox account
    now = timezone.now()
    # The same account id in DocuSign production, out of calls and locked out: none of Hooli's business.
    AccountRateLimit.objects.create(environment="production", account_id=account_id, limit=1000, remaining=0,
                                    reset_at=now + timedelta(minutes=30), blocked_until=now + timedelta(minutes=10))
    assert sentences(health_of(hooli), Topic.RATE_LIMIT) == []

    AccountRateLimit.objects.create(environment=hooli.environment, account_id=account_id, limit=1000, remaining=99,
                                    reset_at=now + timedelta(minutes=30))
    [low] = sentences(health_of(hooli), Topic.RATE_LIMIT)
    assert low.startswith("Only 99 of 1000 API calls are left")


@pytest.mark.django_db
def test_counting_organizations_by_health_reads_no_row_per_organization(partner_key, client):
    hooli = factories.organization("Hooli", account_id="0e6b7c52-9f0a-4b8e-8d1c-2a3b4c5d6e7f")
    post_deliveries(client, hooli, 1, poison=1)
    levels = with_health(ClientOrganization.objects.all()).order_by().values_list("health_level").annotate(n=Count("pk"))

    # A subquery correlated with the organization runs once per organization (10,000 lookups per rule, and on
    # PostgreSQL a plan costly enough to switch on its JIT compiler): the level must come from uncorrelated ones.
    assert '= ("tenants_clientorganization"."id")' not in str(levels.query)
    assert list(levels) == [(Level.ATTENTION, 1)]
