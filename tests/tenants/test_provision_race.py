"""Provisioning checks the slug and the account, then inserts: a request running at the same moment (staff's double
submit) can record the same slug in between. The unique constraint refuses the second insert; the service answers
that as bad input with nothing stored, and the admin shows it, instead of a 500. The other request is played by a
pre_save handler that inserts the same slug just before the service's own insert."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.db.models.signals import pre_save

from tenants import organizations
from tenants.models import AuditEvent, ClientOrganization, SystemUser
from tests import factories

SYSTEM_USER_ID = "a0000001-0000-4000-8000-0000000000aa"


@contextlib.contextmanager
def recorded_meanwhile() -> Iterator[None]:
    def insert_the_same_slug_first(sender, instance, **kwargs) -> None:
        if instance.pk is None and instance.name != "The other request":
            ClientOrganization.objects.create(name="The other request", slug=instance.slug,
                                              environment=instance.environment)

    pre_save.connect(insert_the_same_slug_first, sender=ClientOrganization)
    try:
        yield
    finally:
        pre_save.disconnect(insert_the_same_slug_first, sender=ClientOrganization)


@pytest.mark.django_db
def test_an_own_account_client_recorded_meanwhile_is_a_clear_error_and_nothing_is_stored():
    with recorded_meanwhile(), pytest.raises(ValidationError) as refused:
        organizations.organization_provision(acting_user=None, name="Acme Corp", environment="sandbox",
                                             system_user_id=SYSTEM_USER_ID, system_user_email="system@acme.example")
    assert refused.value.messages == [organizations.RECORDED_MEANWHILE]
    assert not ClientOrganization.objects.exists() and not SystemUser.objects.exists()
    assert not AuditEvent.objects.filter(action="organization.provision").exists()


@pytest.mark.django_db
def test_the_admin_add_form_shows_it_instead_of_a_500(client):
    client.force_login(factories.isv_staff())
    with recorded_meanwhile():
        response = client.post("/admin/tenants/clientorganization/add/", {
            "name": "Acme Corp", "environment": "sandbox", "system_user_id": SYSTEM_USER_ID,
            "system_user_email": "system@acme.example"})
    assert response.status_code == 200
    assert "recorded meanwhile" in response.content.decode()
    assert not ClientOrganization.objects.exists()


@pytest.mark.django_db
def test_a_hosted_client_recorded_meanwhile_is_a_form_error_too(client, sandbox):
    from docusign_sandbox.seed import PARTNER
    from tenants.isv import isv_account_record

    isv_account_record(acting_user=None, environment="sandbox", account_id=PARTNER.account_id,
                       base_uri=sandbox.site(PARTNER.account_id), admin_user_id=sandbox.user("staff@isv.example")["user_id"])
    client.force_login(factories.isv_staff())
    with recorded_meanwhile():
        response = client.post("/admin/tenants/isvaccount/provision/", {"name": "Bravo Dental", "environment": "sandbox"})
    assert response.status_code == 200 and "recorded meanwhile" in response.content.decode()
    assert not ClientOrganization.objects.exists()


@pytest.mark.django_db
def test_provisioning_an_offboarded_hosted_client_again_is_refused_in_words(client, sandbox, monkeypatch):
    from docusign_integration.hosting import tasks
    from docusign_sandbox.seed import PARTNER
    from tenants.isv import isv_account_record
    from tenants.offboarding import organization_offboard

    monkeypatch.setattr(tasks.provision_hosted_system_user, "delay", lambda *args: None)  # its user is not the point
    isv_account_record(acting_user=None, environment="sandbox", account_id=PARTNER.account_id,
                       base_uri=sandbox.site(PARTNER.account_id), admin_user_id=sandbox.user("staff@isv.example")["user_id"])
    client.force_login(factories.isv_staff())
    client.post("/admin/tenants/isvaccount/provision/", {"name": "Romeo Rugs", "environment": "sandbox"})
    organization_offboard(acting_user=None, organization=ClientOrganization.objects.get(slug="romeo-rugs"), reason="left")
    audits = AuditEvent.objects.count()

    again = client.post("/admin/tenants/isvaccount/provision/", {"name": "Romeo Rugs", "environment": "sandbox"})

    assert again.status_code == 200 and "was offboarded on" in again.content.decode()
    assert AuditEvent.objects.count() == audits  # no "provision_again" for a client the portal no longer serves
