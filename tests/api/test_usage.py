"""The API's recent use per key on the organization's health page: calls and errors, counted without a write per
request, read in one query whatever the number of keys."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api import usage
from api.keys import api_key_create, api_key_revoke
from api.models import ApiKeyUsage
from tests import factories
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(factories.user("staff", is_staff=True, is_superuser=True))
    return client


def health_page(organization) -> str:
    return f"/admin/tenants/clientorganization/{organization.pk}/health/"


def test_calls_and_errors_per_key_show_on_the_health_page(staff_client):
    hooli = factories.organization("Hooli")
    crm_key, crm = api_key_create(acting_user=None, organization=hooli, name="CRM")
    old_key, _ = api_key_create(acting_user=None, organization=hooli, name="Old")
    api_key_revoke(acting_user=None, api_key=old_key)
    api = ApiClient(crm)
    with CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            assert api.get("organization").status_code == 200
        assert api.get("envelopes/nope").status_code == 404
    assert not any("api_apikeyusage" in q["sql"] for q in captured.captured_queries)  # no write per request
    usage.flush()

    page = re.sub(r"\s+", " ", staff_client.get(health_page(hooli)).content.decode())
    assert f"<td><code>{crm_key.prefix}</code></td><td>CRM</td> <td>active</td> <td>4</td><td>1</td>" in page
    assert f"<td><code>{old_key.prefix}</code></td><td>Old</td> <td>revoked</td> <td>0</td><td>0</td>" in page
    assert crm.split(".")[1] not in page


def test_flushes_add_up_across_processes_in_one_row_per_key_and_hour():
    hooli = factories.organization("Hooli")
    key, _ = api_key_create(acting_user=None, organization=hooli, name="CRM")
    for error in (False, True, False):
        usage.count(key.pk, error=error)
    usage.flush()
    usage.count(key.pk, error=True)  # another flush (another process's, or the next interval's)
    usage.flush()
    row = ApiKeyUsage.objects.get()
    assert (row.calls, row.errors) == (4, 2)


def test_reading_recent_use_is_one_query_for_any_number_of_keys():
    hooli = factories.organization("Hooli")
    for n in range(5):
        key, _ = api_key_create(acting_user=None, organization=hooli, name=f"key {n}")
        usage.count(key.pk, error=False)
    usage.flush()
    with CaptureQueriesContext(connection) as captured:
        rows = usage.recent_use(hooli.pk)
    assert len(captured) == 1 and [r["calls"] for r in rows] == [1] * 5
