"""Deleting a client organization in the admin (the ISV's retention decision) goes through an audited service."""

from __future__ import annotations

import pytest
from django.test import Client

from tenants.models import AuditEvent, ClientOrganization
from tests import factories

pytestmark = pytest.mark.django_db


def test_deleting_an_organization_in_the_admin_leaves_an_audit_row_naming_it():
    organization = factories.organization("Acme Corp")
    staff = factories.isv_staff()
    staff.is_superuser = True
    staff.save()
    client = Client()
    client.force_login(staff)

    response = client.post(f"/admin/tenants/clientorganization/{organization.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not ClientOrganization.objects.filter(pk=organization.pk).exists()
    row = AuditEvent.objects.get(action="organization.delete")
    assert (row.actor, row.organization) == (staff, None)  # the row outlives the organization
    assert (row.before["name"], row.before["slug"]) == ("Acme Corp", organization.slug)


def test_the_bulk_delete_action_audits_each_organization():
    first, second = factories.organization("First"), factories.organization("Second")
    staff = factories.isv_staff()
    staff.is_superuser = True
    staff.save()
    client = Client()
    client.force_login(staff)

    client.post("/admin/tenants/clientorganization/",
                {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"})

    assert not ClientOrganization.objects.exists()
    assert sorted(AuditEvent.objects.filter(action="organization.delete").values_list("before__name", flat=True)) == [
        "First", "Second"]
