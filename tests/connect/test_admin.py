"""Connect admin: HMAC secrets go in once and never come out; received messages are read-only, quarantine flagged."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from docusign_integration.models import ConnectHMACKey
from tenants.models import AuditEvent
from tests import factories
from tests.connect.conftest import fixture_body

pytestmark = pytest.mark.django_db
SECRET = "CANARY-hmac-secret-7f3a9c2e41"


@pytest.fixture
def staff_client(client):
    staff = factories.isv_staff()
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="docusign_integration"))
    client.force_login(staff)
    return client


def test_a_partner_key_added_in_the_admin_is_stored_encrypted_and_shown_by_its_last_4(staff_client):
    response = staff_client.post("/admin/docusign_integration/connecthmackey/add/", {
        "environment": "sandbox", "scope": "partner", "label": "Partner key 1", "key_id": "", "secret": SECRET})
    assert response.status_code == 302

    key = ConnectHMACKey.objects.get()
    assert key.get_secret() == SECRET and SECRET not in key.secret_ciphertext
    listing = staff_client.get("/admin/docusign_integration/connecthmackey/").content.decode()
    change = staff_client.get(f"/admin/docusign_integration/connecthmackey/{key.pk}/change/").content.decode()
    assert "…41" not in listing and "…2e41" in listing
    assert SECRET not in listing and SECRET not in change
    assert AuditEvent.objects.filter(action="connect_hmac_key.added").exists()
    assert SECRET not in str(list(AuditEvent.objects.values_list("after", flat=True)))


def test_an_account_key_needs_its_organization(staff_client):
    response = staff_client.post("/admin/docusign_integration/connecthmackey/add/", {
        "environment": "sandbox", "scope": "account", "label": "Acme's own", "secret": SECRET})
    assert response.status_code == 200 and not ConnectHMACKey.objects.exists()


def test_the_retire_action_stops_a_key_verifying(staff_client, deliver, acme_organization, partner_key):
    response = staff_client.post("/admin/docusign_integration/connecthmackey/", {
        "action": "retire", "_selected_action": [str(partner_key.pk)]})
    assert response.status_code == 302
    partner_key.refresh_from_db()
    assert not partner_key.active and partner_key.retired_at is not None
    assert deliver.signed(fixture_body("envelope-sent")).status_code == 401


def _listing_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/admin/docusign_integration/connectevent/?state__exact=quarantined").content.decode()
    return len(queries), page


def test_received_messages_are_listed_read_only_with_quarantine_flagged(staff_client, deliver, partner_key):
    deliver.signed(fixture_body("envelope-sent"))  # no organization has the account: quarantined
    few, page = _listing_queries(staff_client)
    assert "Quarantined" in page and "envelope-sent" in page
    for name in ("envelope-delivered", "envelope-completed", "envelope-voided", "envelope-declined"):
        deliver.signed(fixture_body(name))
    assert _listing_queries(staff_client)[0] == few  # the page costs the same whatever its length
    assert staff_client.get("/admin/docusign_integration/connectevent/add/").status_code == 403
