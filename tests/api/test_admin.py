"""Staff issue keys and set an organization's origins in the admin; what is stored and audited is never the key."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from api.models import OrganizationAPIKey, OrganizationApiSettings
from tenants.models import AuditEvent
from tests import factories
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    client.force_login(factories.user("staff", is_staff=True, is_superuser=True))
    return client


def test_staff_issue_a_key_shown_once_and_audited_by_prefix(staff):
    hooli = factories.organization("Hooli")
    response = staff.post("/admin/api/organizationapikey/add/", {"name": "CRM", "organization": hooli.pk,
                                                                "expiry_date_0": "", "expiry_date_1": ""})
    assert response.status_code == 302, response.content.decode()[-1500:]
    (message,) = [str(m) for m in get_messages(response.wsgi_request) if " is: " in str(m)]
    key = message.split(" is: ")[1].split(" ")[0]
    api_key = OrganizationAPIKey.objects.get()
    assert api_key.organization == hooli and key.startswith(api_key.prefix + ".")
    assert ApiClient(key).get("organization").status_code == 200
    (event,) = AuditEvent.objects.filter(action="api.key_create")
    assert event.target == f"API key {api_key.prefix}" and key.split(".")[1] not in str(event.after)
    staff.get(f"/admin/api/organizationapikey/{api_key.pk}/change/")  # the next page shows the message, once
    assert key not in staff.get(f"/admin/api/organizationapikey/{api_key.pk}/change/").content.decode()


def test_origins_are_validated(staff):
    hooli = factories.organization("Hooli")
    bad = staff.post("/admin/api/organizationapisettings/add/", {
        "organization": hooli.pk, "allowed_origins": '["https://app.example.com/path"]', "frame_ancestors": "[]"})
    assert bad.status_code == 200 and "is not an origin" in bad.content.decode()
    good = staff.post("/admin/api/organizationapisettings/add/", {
        "organization": hooli.pk, "allowed_origins": '["https://app.example.com"]',
        "frame_ancestors": '["https://app.example.com"]'})
    assert good.status_code == 302
    assert OrganizationApiSettings.objects.get().allowed_origins == ["https://app.example.com"]
