"""The account rule in the database: one own-account client per account; the ISV account hosts many."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tenants.models import ClientOrganization, Hosting

ACCOUNT = "e4c3f5d7-9a6b-4dbe-8f4a-000000000401"

pytestmark = pytest.mark.django_db


def test_two_own_account_clients_cannot_share_an_account_at_the_database():
    ClientOrganization.objects.create(name="A", slug="a", account_id=ACCOUNT)
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientOrganization.objects.create(name="B", slug="b", account_id=ACCOUNT)


def test_hosted_clients_share_the_isv_account():
    ClientOrganization.objects.create(name="A", slug="a", account_id=ACCOUNT, hosting=Hosting.HOSTED)
    ClientOrganization.objects.create(name="B", slug="b", account_id=ACCOUNT, hosting=Hosting.HOSTED)
    assert ClientOrganization.objects.filter(account_id=ACCOUNT).count() == 2


def test_a_hosted_client_without_an_account_or_an_unknown_hosting_fails_at_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientOrganization.objects.create(name="A", slug="a", hosting=Hosting.HOSTED)
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientOrganization.objects.create(name="B", slug="b", account_id=ACCOUNT, hosting="shared")
