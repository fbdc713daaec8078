"""DocuSign ids are kept in one spelling, lower case, whichever way they are written (GUIDField)."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError

from tenants.models import ClientOrganization, SystemUser
from tests import factories

pytestmark = pytest.mark.django_db


def test_an_id_written_in_upper_case_is_stored_and_found_in_lower_case():
    organization = factories.organization("Acme")
    account_id = str(uuid.uuid4())

    # update() skips save() and the services: the field itself lowers the value
    ClientOrganization.objects.filter(pk=organization.pk).update(account_id=account_id.upper())
    assert ClientOrganization.objects.values_list("account_id", flat=True).get(pk=organization.pk) == account_id
    assert ClientOrganization.objects.get(account_id=account_id.upper()) == organization
    assert ClientOrganization.objects.get(account_id__in=[account_id.upper()]) == organization

    organization.system_user.user_id = organization.system_user.user_id.upper()
    organization.system_user.save()
    assert SystemUser.objects.values_list("user_id", flat=True).get(pk=organization.system_user.pk).islower()


def test_two_spellings_of_one_account_are_one_account():
    account_id = str(uuid.uuid4())
    factories.organization("First", account_id=account_id)
    second = factories.organization("Second")

    second.account_id = account_id.upper()
    with pytest.raises(ValidationError, match="already linked to another client organization"):
        second.full_clean()
