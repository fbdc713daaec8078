"""Every way a `base_uri` enters the portal is checked: userinfo's answer and staff's edits of an organization.

The sandbox's userinfo names its own origin as every account's `base_uri`, so a crafted one is a fault the
sandbox cannot produce: the userinfo response is rewritten at the choke point (`http.call`), the real grant
and the real userinfo request still go to the sandbox. The host the crafted value points at is a loopback
server that records anything it receives.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from django.core.exceptions import ValidationError
from django.forms import modelform_factory

from docusign_integration.client import http
from docusign_integration.consent.system_user import consent_verify
from docusign_sandbox.consent import grant_individual
from docusign_sandbox.models import IntegrationKey, User
from docusign_sandbox.seed import ACME, JWT_SCOPES
from tenants.models import ClientOrganization, ConsentStatus
from tests import factories


def _crafted_userinfo(monkeypatch, base_uri: str) -> None:
    real_call = http.call

    def call(method: str, url: str, **kwargs):
        answer = real_call(method, url, **kwargs)
        if url.endswith("/oauth/userinfo"):
            body = http.json_or_raise(answer)
            for account in body["accounts"]:
                account["base_uri"] = base_uri
            answer = dataclasses.replace(answer, content=json.dumps(body).encode())
        return answer

    monkeypatch.setattr(http, "call", call)


@pytest.mark.parametrize("crafted", [
    "{evil}", "{sandbox}@{evil_host}", "{sandbox}\\@{evil_host}", "{sandbox}%2f@{evil_host}",
    "http://{evil_host}\\.{sandbox_host}", "{evil}/restapi", "{sandbox}#@{evil_host}",
])
def test_a_crafted_base_uri_from_userinfo_is_refused_and_no_token_reaches_its_host(sandbox, other_server, monkeypatch,
                                                                                  crafted):
    user = User.objects.get(email="system@acme.example")
    grant_individual(user, IntegrationKey.objects.get(), set(JWT_SCOPES))
    organization = factories.organization("Acme", system_user_id=user.user_id, system_user_email=user.email,
                                          account_id=ACME.account_id)
    crafted = crafted.format(evil=other_server.url, evil_host=other_server.host, sandbox=sandbox.url,
                             sandbox_host=sandbox.url.removeprefix("http://"))
    _crafted_userinfo(monkeypatch, crafted)

    system_user = consent_verify(acting_user=None, organization=organization)

    organization.refresh_from_db()
    assert other_server.received == []  # no request at all, so no bearer token, reached the crafted host
    assert organization.base_uri == ""
    assert system_user.consent_status == ConsentStatus.GRANTED  # the grant worked; the account is what failed
    assert system_user.last_error_code == "UNTRUSTED_BASE_URI"
    assert "allowlist" in system_user.last_error


HOSTILE_EDITS = [
    ("production", "https://evil.example\\.docusign.net"),
    ("production", "https://na3.docusign.net@evil.example"),
    ("production", "https://na3.docusign.net:8443"),
    ("production", "https://docusign.net"),
    ("demo", "https://demo.docusign.net\\@evil.example"),
    ("demo", "https://demo.docusign.net%2f@evil"),
    ("demo", "https://demo.docusign.net."),
    ("demo", "https://127.0.0.1"),
    ("demo", "http://demo.docusign.net"),
    ("demo", "https://demo.docusign.net/restapi"),
    ("demo", "https://na3.docusign.net"),  # a production host on a demo organization
    ("demo", "https://demo.docusign.net\t"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("environment", "base_uri"), HOSTILE_EDITS)
def test_full_clean_refuses_a_hostile_base_uri_with_a_message(environment, base_uri):
    organization = factories.organization("Acme")
    ClientOrganization.objects.filter(pk=organization.pk).update(environment=environment)
    organization.refresh_from_db()
    organization.base_uri = base_uri

    with pytest.raises(ValidationError) as caught:
        organization.full_clean()

    messages = caught.value.message_dict["base_uri"]
    assert any("userinfo" in message and "docusign.net" in message for message in messages), messages
    organization.refresh_from_db()
    assert organization.base_uri == ""


@pytest.mark.django_db
def test_the_admin_form_shows_the_refusal_on_the_base_uri_field():
    organization = factories.organization("Acme")
    form_class = modelform_factory(ClientOrganization, fields=["name", "slug", "environment", "onboarding_status",
                                                               "base_uri"])
    data = {"name": "Acme", "slug": organization.slug, "environment": "demo", "onboarding_status": "provisioned",
            "base_uri": "https://demo.docusign.net@evil.example"}

    form = form_class(data, instance=organization)

    assert not form.is_valid()
    assert list(form.errors) == ["base_uri"]
    assert "https://demo.docusign.net" in form.errors["base_uri"][0]


@pytest.mark.django_db
@pytest.mark.parametrize(("environment", "base_uri", "stored"), [
    ("demo", "https://DEMO.docusign.net/", "https://demo.docusign.net"),
    ("production", "https://na3.docusign.net:443", "https://na3.docusign.net"),
    ("production", "", ""),
])
def test_full_clean_accepts_an_allowed_base_uri_in_its_normalised_form(environment, base_uri, stored):
    organization = factories.organization("Acme")
    organization.environment, organization.base_uri = environment, base_uri

    organization.full_clean()

    assert organization.base_uri == stored
