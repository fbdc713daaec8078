"""The client organization's admin change form, posted the way a browser posts it.

Each test GETs the real change page, takes every field the browser would send from the rendered form (hidden
fields and the system user inline's management form included), edits a value and POSTs it back. A test that
built the POST by hand would pass with a form no browser can submit.
"""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from tenants.models import AuditEvent, ClientOrganization, ConsentStatus, SystemUser
from tests import factories

CHANGELIST = "/admin/tenants/clientorganization/"


def change_url(organization: ClientOrganization) -> str:
    return f"{CHANGELIST}{organization.pk}/change/"


def signed_in_staff() -> Client:
    client = Client()
    client.force_login(factories.isv_staff())
    return client


def form_data(response) -> dict[str, str]:
    """What the browser would submit: every bound field of the main form and of each inline, with the management
    forms, as rendered (read-only fields are not inputs, so they are not sent)."""
    assert response.status_code == 200, response.status_code
    data: dict[str, str] = {}
    admin_form = response.context["adminform"].form
    for bound in admin_form:
        data.update(_submitted(bound))
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for bound in formset.management_form:
            data[bound.html_name] = str(bound.value())
        for form in formset.forms:
            for bound in form:
                data.update(_submitted(bound))
    return data


def _submitted(bound) -> dict[str, str]:
    value = bound.value()
    if value is None or value is False:
        return {}
    return {bound.html_name: "on" if value is True else str(value)}


def inline_name(data: dict[str, str], field: str) -> str:
    [name] = [key for key in data if key.startswith("system_user-0-") and key.endswith(f"-{field}")]
    return name


@pytest.fixture
def organization() -> ClientOrganization:
    return factories.organization("Acme", system_user_id=str(uuid.uuid4()), system_user_email="system@acme.example")


@pytest.mark.django_db
def test_renaming_and_changing_the_system_users_email_saves_both_with_one_audit_row_each(organization):
    client = signed_in_staff()
    before = AuditEvent.objects.count()
    data = form_data(client.get(change_url(organization)))
    data["name"] = "Acme Corporation"
    data[inline_name(data, "email")] = "esign@acme.example"

    response = client.post(change_url(organization), data)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert response["Location"] == CHANGELIST
    organization.refresh_from_db()
    system_user = SystemUser.objects.get(organization=organization)
    assert (organization.name, organization.slug) == ("Acme Corporation", "acme")
    assert system_user.email == "esign@acme.example"
    events = AuditEvent.objects.order_by("pk")[before:]
    rename, update = ([e for e in events if e.action == action] for action in ("organization.rename", "system_user.update"))
    assert [(e.before, e.after) for e in rename] == [({"name": "Acme"}, {"name": "Acme Corporation"})]
    # Changed fields only: the user id did not change, so it is not in the row.
    assert [(e.before, e.after) for e in update] == [({"email": "system@acme.example"}, {"email": "esign@acme.example"})]
    assert len(events) == 2
    assert all(e.actor.username == "staff" for e in events)


@pytest.mark.django_db
def test_a_new_system_user_id_saves_and_starts_consent_again(organization):
    SystemUser.objects.filter(organization=organization).update(consent_status=ConsentStatus.GRANTED)
    client = signed_in_staff()
    data = form_data(client.get(change_url(organization)))
    new_id = str(uuid.uuid4()).upper()  # DocuSign shows GUIDs in either case; the portal stores lower case
    data[inline_name(data, "user_id")] = new_id

    response = client.post(change_url(organization), data)

    assert response.status_code == 302
    system_user = SystemUser.objects.get(organization=organization)
    assert (system_user.user_id, system_user.consent_status) == (new_id.lower(), ConsentStatus.UNKNOWN)
    event = AuditEvent.objects.filter(action="system_user.update").get()
    assert event.after == {"user_id": new_id.lower(), "consent_status": ConsentStatus.UNKNOWN}


@pytest.mark.django_db
def test_saving_without_a_change_answers_the_changelist_and_writes_no_audit_row(organization):
    client = signed_in_staff()
    before = list(AuditEvent.objects.values_list("pk", flat=True))
    data = form_data(client.get(change_url(organization)))

    response = client.post(change_url(organization), data)

    assert response.status_code == 302 and response["Location"] == CHANGELIST
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == before


@pytest.mark.django_db
@pytest.mark.parametrize("bad_id", ["system@acme.example", "not-a-guid", "0a1b2c3d-4e5f-6789-abcd-ef012345678", "x" * 500])
def test_a_bad_system_user_id_is_shown_on_the_form_and_nothing_is_stored(organization, bad_id):
    client = signed_in_staff()
    stored = SystemUser.objects.get(organization=organization).user_id
    before = AuditEvent.objects.count()
    data = form_data(client.get(change_url(organization)))
    data["name"] = "Renamed"
    data[inline_name(data, "user_id")] = bad_id

    response = client.post(change_url(organization), data)

    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert SystemUser.objects.get(organization=organization).user_id == stored
    assert ClientOrganization.objects.get(pk=organization.pk).name == "Acme"
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_a_blank_name_is_shown_on_the_form_and_nothing_is_stored(organization):
    client = signed_in_staff()
    before = AuditEvent.objects.count()
    data = form_data(client.get(change_url(organization)))
    data["name"] = "   "
    data[inline_name(data, "email")] = "esign@acme.example"

    response = client.post(change_url(organization), data)

    assert response.status_code == 200
    assert SystemUser.objects.get(organization=organization).email == "system@acme.example"
    assert ClientOrganization.objects.get(pk=organization.pk).name == "Acme"
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_the_add_form_as_rendered_provisions_an_organization_with_an_audit_row():
    client = signed_in_staff()
    page = client.get(f"{CHANGELIST}add/")
    assert page.status_code == 200
    form = page.context["form"]
    data = {bound.html_name: str(bound.value() or "") for bound in form}
    data.update(name="Globex", system_user_id=str(uuid.uuid4()), system_user_email="system@globex.example")

    response = client.post(f"{CHANGELIST}add/", data)

    organization = ClientOrganization.objects.get(name="Globex")
    assert response.status_code == 302 and response["Location"] == change_url(organization)
    assert organization.system_user.email == "system@globex.example"
    assert AuditEvent.objects.filter(organization=organization, action="organization.provision").count() == 1
    # The page it redirects to, the change form, renders and saves as is.
    assert client.post(change_url(organization), form_data(client.get(change_url(organization)))).status_code == 302


@pytest.mark.django_db
def test_a_second_system_user_form_added_to_the_post_changes_nothing(organization):
    """The management form says how many inline forms there are; a tampered count must not make a second edit."""
    client = signed_in_staff()
    data = form_data(client.get(change_url(organization)))
    prefix = inline_name(data, "email").rsplit("-", 1)[0].rsplit("-", 1)[0]  # "system_user"
    data[f"{prefix}-TOTAL_FORMS"] = "2"
    data.update({f"{prefix}-1-user_id": str(uuid.uuid4()), f"{prefix}-1-email": "attacker@evil.example",
                 f"{prefix}-1-organization": str(organization.pk)})

    response = client.post(change_url(organization), data)

    assert response.status_code in (200, 302)
    assert list(SystemUser.objects.values_list("email", flat=True)) == ["system@acme.example"]
    assert not AuditEvent.objects.filter(action="system_user.update").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("count", ["abc", "99999999999999999999", "", "1e3"])
def test_a_garbled_management_form_is_a_form_error_not_a_500(organization, count):
    client = signed_in_staff()
    data = form_data(client.get(change_url(organization)))
    data["system_user-TOTAL_FORMS"] = count
    data["name"] = "Renamed"

    response = client.post(change_url(organization), data)

    assert response.status_code == 200
    assert ClientOrganization.objects.get(pk=organization.pk).name == "Acme"


@pytest.mark.django_db
def test_a_negative_form_count_sends_no_inline_form_so_only_the_rename_is_saved(organization):
    client = signed_in_staff()
    data = form_data(client.get(change_url(organization)))
    data["system_user-TOTAL_FORMS"] = "-1"
    data["name"] = "Renamed"
    data[inline_name(data, "email")] = "esign@acme.example"

    assert client.post(change_url(organization), data).status_code == 302
    assert ClientOrganization.objects.get(pk=organization.pk).name == "Renamed"
    assert SystemUser.objects.get(organization=organization).email == "system@acme.example"
