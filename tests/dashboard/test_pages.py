"""The staff dashboard and health pages: who may see them, what they show, and a cost that does not grow."""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from pages.dashboard import ATTENTION_PAGE_SIZE
from tenants import services
from tenants.models import ClientOrganization
from tests import factories
from tests.dashboard.conftest import post_deliveries

DASHBOARD = "/admin/dashboard/"
pytestmark = pytest.mark.django_db


def health_page(organization: ClientOrganization) -> str:
    return f"/admin/tenants/clientorganization/{organization.pk}/health/"


def linked_organization(name: str) -> ClientOrganization:
    return factories.organization(name, account_id=str(uuid.uuid4()))


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return re.sub(r"\s+", " ", response.content.decode())


def hour_counts(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<g class="hour" data-hour="[^"]+" data-count="(\d+)"', page)]


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_only_staff_with_the_view_permission_see_the_dashboard_and_health_pages(signed_in):
    people = factories.personas()
    staff, intern, client_admin = (signed_in(people.staff), signed_in(factories.isv_staff("intern", permissions=False)),
                                   signed_in(people.admin_a))

    for url in (DASHBOARD, health_page(people.org_a)):
        assert staff.get(url).status_code == 200
        assert intern.get(url).status_code == 403
        refused = client_admin.get(url)
        assert refused.status_code == 302 and refused["Location"].startswith(f"/admin/login/?next={url}")
        assert Client().get(url)["Location"].startswith("/admin/login/")


def test_the_dashboard_counts_organizations_by_onboarding_state_and_health(staff_client, partner_key, client):
    factories.organization("Initech")
    hooli = linked_organization("Hooli")
    post_deliveries(client, hooli, 3, poison=1)

    page = text(staff_client.get(DASHBOARD))

    assert re.search(r"Needs attention</span></th> <td class=\"count\">2</td>", page)
    assert re.search(r"Provisioned</th><td class=\"count\">2</td>", page)
    assert re.search(r"All organizations</th><td class=\"count\">2</td>", page)
    assert "Needs attention now (2)" in page
    assert "1 Connect message in the last 24 h could not be applied" in page
    assert hour_counts(page)[-1] == 3 and sum(hour_counts(page)) == 3 and len(hour_counts(page)) == 24
    assert page.count('class="bar-quarantined"') == 1
    assert " style=" not in page.split('id="content-main"')[1]  # the CSP (style-src 'self') would drop inline styles


def test_the_attention_list_is_paginated_broken_first(staff_client):
    for n in range(ATTENTION_PAGE_SIZE + 2):
        factories.organization(f"Client {n:02}")
    broken = factories.organization("Zeta")
    services.consent_record_result(acting_user=None, organization=broken, granted=True)
    services.consent_record_result(acting_user=None, organization=broken, granted=False)  # consent revoked

    first, second = text(staff_client.get(DASHBOARD)), text(staff_client.get(f"{DASHBOARD}?page=2"))

    assert "Needs attention now (28)" in first and "Page 1 of 2" in first
    rows = re.findall(r'clientorganization/\d+/health/">([^<]+)</a>', first)
    assert rows[:2] == ["Zeta", "Client 00"] and len(rows) == ATTENTION_PAGE_SIZE
    assert re.findall(r'clientorganization/\d+/health/">([^<]+)</a>', second) == ["Client 24", "Client 25", "Client 26"]


def test_the_health_page_shows_each_check_the_facts_and_the_audit_trail_paginated(staff_client, partner_key, client):
    hooli = linked_organization("Hooli")
    post_deliveries(client, hooli, 2, poison=1)
    for n in range(30):
        services.organization_rename(acting_user=None, organization=hooli, name=f"Hooli {n}")

    first = text(staff_client.get(health_page(hooli)))
    second = text(staff_client.get(f"{health_page(hooli)}?page=2"))

    assert "Overall: <span class=\"health-badge health-attention\">Needs attention</span>" in first
    assert re.search(r"Connect deliveries</th> <td><span class=\"health-badge health-attention\">", first)
    assert re.search(r"Rate-limit headroom</th> <td><span class=\"health-badge health-ok\">OK</span> </td> <td>Nothing to do",
                     first)
    assert "2 received, 1 quarantined" in first and hooli.account_id in first
    assert "Audit trail (31)" in first and "Page 1 of 2" in first
    assert "<code>name</code>: Hooli 28 &rarr; Hooli 29" in first  # newest first
    assert "organization.provision" in second and "Hooli 29" not in second.split('id="audit"')[1]


def test_a_health_page_for_an_unknown_organization_is_404(staff_client):
    assert staff_client.get("/admin/tenants/clientorganization/999999/health/").status_code == 404


def test_the_admin_index_and_the_changelist_link_to_the_dashboard_and_health_pages(staff_client):
    acme = factories.organization("Acme")

    assert f'href="{DASHBOARD}"' in text(staff_client.get("/admin/"))
    assert f'href="{health_page(acme)}"' in text(staff_client.get("/admin/tenants/clientorganization/"))


def test_the_index_offers_no_dashboard_link_to_staff_without_the_permission(signed_in):
    assert DASHBOARD not in text(signed_in(factories.isv_staff("intern", permissions=False)).get("/admin/"))


def test_the_dashboard_and_a_health_page_cost_the_same_queries_for_3_and_30_organizations(staff_client, partner_key, client):
    organizations = [linked_organization(f"Client {n:02}") for n in range(3)]
    for organization in organizations:
        post_deliveries(client, organization, 2, poison=1)
    watched = organizations[0]
    few = queries(staff_client, DASHBOARD), queries(staff_client, health_page(watched))

    for n in range(3, 30):
        organization = linked_organization(f"Client {n:02}")
        post_deliveries(client, organization, 2, poison=1)
    for n in range(40):
        services.organization_rename(acting_user=None, organization=watched, name=f"Client 00 ({n})")
    post_deliveries(client, watched, 5)

    assert (queries(staff_client, DASHBOARD), queries(staff_client, health_page(watched))) == few
