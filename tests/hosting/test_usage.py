"""Usage per hosted client: envelopes sent per month from the portal's records, as the billing CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from docusign_integration.envelopes.models.envelopes import CreatedVia, Envelope
from docusign_integration.hosting.usage import hosted_usage, organization_usage
from tenants.models import ClientOrganization, Hosting

ISV = "e4c3f5d7-9a6b-4dbe-8f4a-000000000401"
pytestmark = pytest.mark.django_db


def hosted(name: str) -> ClientOrganization:
    return ClientOrganization.objects.create(name=name, slug=name.lower(), account_id=ISV, hosting=Hosting.HOSTED)


def envelope(organization: ClientOrganization, n: int, sent_at: datetime | None) -> None:
    Envelope.objects.create(organization=organization, envelope_id=f"00000000-0000-4000-8000-{n:012d}",
                            environment="sandbox", status="sent" if sent_at else "created", sent_at=sent_at,
                            created_via=CreatedVia.PORTAL)


@pytest.fixture
def world():
    alpha, bravo = hosted("Alpha"), hosted("Bravo")
    own = ClientOrganization.objects.create(name="Own", slug="own", account_id="c2a1d3b5-7e4f-4b9c-8d2e-000000000201")
    n = 0
    for organization, months in ((alpha, (11, 11, 12)), (bravo, (12,)), (own, (12, 12))):
        for month in months:
            n += 1
            envelope(organization, n, datetime(2026, month, 3, tzinfo=UTC))
    envelope(alpha, 99, None)  # a draft never sent is not billed
    return alpha, bravo


def test_usage_counts_sent_envelopes_per_hosted_client_and_month_in_one_query(world):
    alpha, bravo = world
    with CaptureQueriesContext(connection) as queries:
        rows = hosted_usage(first_month=date(2026, 11, 1), last_month=date(2026, 12, 1))

    assert [(r.month, r.slug, r.envelopes_sent) for r in rows] == [
        (date(2026, 11, 1), "alpha", 2), (date(2026, 12, 1), "alpha", 1), (date(2026, 12, 1), "bravo", 1)]
    assert len(queries) == 1
    assert [r.envelopes_sent for r in organization_usage(bravo, first_month=date(2026, 1, 1),
                                                        last_month=date(2026, 12, 1))] == [1]


def test_the_command_writes_the_billing_csv(world):
    out = io.StringIO()
    call_command("hosted_usage", "--from", "2026-12", "--to", "2026-12", stdout=out)

    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["month", "organization", "slug", "environment", "envelopes_sent"],
        ["2026-12", "Alpha", "alpha", "sandbox", "1"], ["2026-12", "Bravo", "bravo", "sandbox", "1"]]


def test_a_bad_month_is_refused():
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("hosted_usage", "--from", "December", stdout=io.StringIO())


@pytest.fixture
def staff_client():
    from django.test import Client

    from tests import factories

    client = Client()
    client.force_login(factories.isv_staff())
    return client


def test_the_admin_usage_page_lists_each_hosted_clients_month_in_constant_queries(world, staff_client):
    response = staff_client.get("/admin/tenants/isvaccount/usage/?month=2026-11")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<td>Alpha</td><td>alpha</td><td>sandbox</td><td>2</td>" in page
    assert "bravo" not in page  # Bravo sent nothing in November

    for n in range(10):
        envelope(hosted(f"More{n}"), 200 + n, datetime(2026, 11, 9, tzinfo=UTC))
    with CaptureQueriesContext(connection) as queries:
        assert staff_client.get("/admin/tenants/isvaccount/usage/?month=2026-11").status_code == 200
    with CaptureQueriesContext(connection) as fewer:
        staff_client.get("/admin/tenants/isvaccount/usage/?month=2026-10")
    assert len(queries) == len(fewer)


def test_the_admin_downloads_the_billing_csv(world, staff_client):
    response = staff_client.get("/admin/tenants/isvaccount/usage.csv?from=2026-11&to=2026-12")
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().splitlines()[1:] == ["2026-11,Alpha,alpha,sandbox,2", "2026-12,Alpha,alpha,sandbox,1",
                                                         "2026-12,Bravo,bravo,sandbox,1"]


def test_the_usage_is_for_staff_who_may_view_client_organizations(world):
    from django.test import Client

    from tests import factories

    client = Client()
    client.force_login(factories.isv_staff("nobody", permissions=False))
    assert client.get("/admin/tenants/isvaccount/usage.csv").status_code == 403


def test_a_hosted_clients_health_page_shows_its_usage(world, staff_client):
    alpha, _ = world
    Envelope.objects.filter(organization=alpha, sent_at__isnull=False).update(sent_at=datetime.now(UTC))
    page = staff_client.get(f"/admin/tenants/clientorganization/{alpha.pk}/health/").content.decode()
    assert "Hosted in the ISV account" in page
    assert f'id="hosted-usage">{datetime.now(UTC):%Y-%m}: 3<' in page
