"""docs/security.md TI-4: the Django admin is least-privilege, and secrets are write-only there.

Already covered elsewhere: the connection admin masks tokens to 4 characters, refuses add/change/delete and finds
nothing by token (tests/onboarding/test_credential_admin.py); HMAC keys are entered once in a password input
(tests/connect/test_admin.py). Here: staff without the view permission get 403 on every page of the secret-holding
models; staff with it see neither the canaries nor any ciphertext; no registered ModelAdmin searches or lists a
secret column.
"""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.security.crawl import body_of

SECRET_MODELS = ("docusign_integration.docusigncredential", "docusign_integration.connecthmackey", "tenants.auditevent")
CIPHERTEXT = re.compile(r"\bv1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16,}")
SECRET_NAME = re.compile(r"token|secret|ciphertext|password|private|assertion|verifier|extra_data", re.IGNORECASE)


def admin_pages(world, label: str) -> list[str]:
    app_label, model_name = label.split(".")
    obj = next(m for m in admin.site._registry if m._meta.label_lower == label)
    instance = world.preferred.get(obj) or obj._default_manager.filter(organization=world.org_a).first()
    return [reverse(f"admin:{app_label}_{model_name}_changelist"),
            reverse(f"admin:{app_label}_{model_name}_change", args=[instance.pk]),
            reverse(f"admin:{app_label}_{model_name}_history", args=[instance.pk])]


def staff_with(*codenames: str) -> Client:
    person = factories.isv_staff(f"staff-{len(codenames)}-{'-'.join(codenames)[:40]}", permissions=False)
    person.user_permissions.set(Permission.objects.filter(codename__in=["view_clientorganization", *codenames]))
    client = Client()
    client.force_login(person)
    return client


@pytest.mark.parametrize("label", SECRET_MODELS)
def test_staff_without_the_view_permission_get_403_on_every_page(world, label):
    client = staff_with()

    statuses = {url: client.get(url).status_code for url in admin_pages(world, label)}

    assert set(statuses.values()) == {403}, statuses
    assert client.get(reverse("admin:tenants_clientorganization_changelist")).status_code == 200


@pytest.mark.parametrize("label", SECRET_MODELS)
def test_staff_with_the_view_permission_see_no_secret_and_no_ciphertext(world, label):
    client = staff_with(f"view_{label.split('.')[1]}")
    assert CIPHERTEXT.fullmatch(world.canary_credential.access_token_ciphertext)  # the pattern finds real ciphertexts

    for url in admin_pages(world, label):
        response = client.get(url)
        text = body_of(response).decode()
        assert response.status_code == 200, url
        assert not world.secrets.found_in(text), url
        assert not CIPHERTEXT.search(text), url


def test_no_admin_searches_lists_or_filters_by_a_secret_column():
    offending = []
    for model, model_admin in admin.site._registry.items():
        # Admin methods in list_display (e.g. `secret_hint`) show masked values; the page tests above read them.
        columns = [n for n in model_admin.list_display if isinstance(n, str) and not hasattr(model_admin, n)]
        names = [*model_admin.search_fields, *columns, *(f for f in model_admin.list_filter if isinstance(f, str))]
        offending += [f"{model._meta.label}: {name}" for name in names if SECRET_NAME.search(name.lstrip("=^@"))]

    assert not offending
    assert admin.site._registry  # the loop above saw the portal's admins


def test_nobody_adds_a_docusign_connection_in_the_admin(world):
    superuser = world.client("superuser")

    assert superuser.get(reverse("admin:docusign_integration_docusigncredential_add")).status_code == 403
