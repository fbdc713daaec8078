"""ISV staff edit the one setup profile in the admin; what cannot be pushed is refused with the reason."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from docusign_integration.models import SetupProfile
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> Client:
    staff = factories.isv_staff()
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="docusign_integration",
                                                          codename__endswith="setupprofile"))
    client = Client()
    client.force_login(staff)
    return client


def form(profile: SetupProfile, **changes) -> dict[str, str]:
    values = {"connect_name": profile.connect_name, "connect_configuration": profile.connect_configuration,
              "account_settings": profile.account_settings, **changes}
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()}


def test_the_profiles_list_opens_the_one_profile_made_from_settings(staff_client, settings):
    response = staff_client.get("/admin/docusign_integration/setupprofile/", follow=True)

    assert response.redirect_chain[-1][0] == "/admin/docusign_integration/setupprofile/1/change/"
    text = response.content.decode()
    assert settings.DOCUSIGN_SETUP_PROFILE["connect_name"] in text and "/docusign/connect/" in text
    assert SetupProfile.objects.count() == 1


def test_staff_change_the_events_and_unknown_events_or_non_string_settings_are_refused(staff_client):
    profile = SetupProfile.load()
    url = f"/admin/docusign_integration/setupprofile/{profile.pk}/change/"
    events = {**profile.connect_configuration, "events": ["envelope-completed", "envelope-signed"]}

    refused = staff_client.post(url, form(profile, connect_configuration=events, account_settings={"enableAutoNav": True}))

    assert refused.status_code == 200
    assert "DocuSign has no JSON SIM event envelope-signed." in refused.content.decode()
    assert "DocuSign account settings are strings" in refused.content.decode()
    saved = staff_client.post(url, form(profile, connect_configuration={**events, "events": ["envelope-completed"]}))
    assert saved.status_code == 302
    profile.refresh_from_db()
    assert profile.connect_configuration["events"] == ["envelope-completed"]


def test_the_portal_owned_fields_cannot_be_set_in_the_profile(staff_client):
    profile = SetupProfile.load()
    owned = {**profile.connect_configuration, "urlToPublishTo": "https://elsewhere.example/"}

    response = staff_client.post(f"/admin/docusign_integration/setupprofile/{profile.pk}/change/",
                                 form(profile, connect_configuration=owned))

    assert "Leave out urlToPublishTo: the portal sets them." in response.content.decode()
    profile.refresh_from_db()
    assert "urlToPublishTo" not in profile.connect_configuration


def test_a_profile_change_is_audited_with_its_actor_and_only_the_changed_fields(staff_client):
    from tenants.models import AuditEvent

    profile = SetupProfile.load()
    url = f"/admin/docusign_integration/setupprofile/{profile.pk}/change/"
    old_settings = profile.account_settings
    new_settings = {**old_settings, "enableAutoNav": "false"}

    assert staff_client.post(url, form(profile, account_settings=new_settings)).status_code == 302

    [row] = AuditEvent.objects.filter(action="setup_profile.update")
    assert row.actor.username == "staff"
    assert (row.before, row.after) == ({"account_settings": old_settings}, {"account_settings": new_settings})


def test_an_invalid_profile_through_the_service_changes_nothing_and_audits_nothing():
    from django.core.exceptions import ValidationError

    from docusign_integration.setup.account_setup import setup_profile_update
    from tenants.models import AuditEvent

    profile = SetupProfile.load()
    with pytest.raises(ValidationError):
        setup_profile_update(acting_user=None, connect_name="Renamed", connect_configuration=profile.connect_configuration,
                             account_settings={"enableAutoNav": True})
    assert SetupProfile.objects.get().connect_name == profile.connect_name
    assert not AuditEvent.objects.filter(action="setup_profile.update").exists()
