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


def test_an_own_account_client_is_refused_the_isv_account_and_the_isv_account_an_own_clients_account():
    from django.core.exceptions import ValidationError

    from tenants import services
    from tenants.isv import isv_account_record
    from tenants.models import ISVAccount

    ISVAccount.objects.create(environment="sandbox", account_id=ACCOUNT, base_uri="https://demo.docusign.net",
                              admin_user_id="a0000001-0000-4000-8000-000000000005")
    with pytest.raises(ValidationError, match="--hosted"):
        services.organization_provision(acting_user=None, name="Own", environment="sandbox", account_id=ACCOUNT,
                                        system_user_id="a0000001-0000-4000-8000-000000000001",
                                        system_user_email="system@own.example")
    assert not ClientOrganization.objects.exists()

    own = "c2a1d3b5-7e4f-4b9c-8d2e-000000000201"
    ClientOrganization.objects.create(name="Globex", slug="globex", account_id=own)
    ISVAccount.objects.all().delete()
    with pytest.raises(ValidationError, match="own-account client"):
        isv_account_record(acting_user=None, environment="sandbox", account_id=own, base_uri="https://demo.docusign.net",
                           admin_user_id="a0000001-0000-4000-8000-000000000005")
    assert not ISVAccount.objects.exists()
