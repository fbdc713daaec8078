"""The admin looks like the product: the ISV's brand in its header and title, the Dashboard link rendered as a link,
python-social-auth's tables hidden from staff (read-only for superusers), long names cut with the full name on hover."""

from __future__ import annotations

import pytest
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_names_the_portal_brand_not_django(settings):
    settings.PORTAL_STAFF_REQUIRE_OTP = False
    settings.PORTAL_BRAND_NAME = "Acme Signing Partners"
    html = signed_in(factories.isv_staff()).get("/admin/").content.decode()

    assert "Django administration" not in html and "Django site admin" not in html
    assert "<title>Client organizations and operations | Acme Signing Partners</title>" in html
    assert 'id="site-name"><a href="/admin/">Acme Signing Partners</a>' in html


def test_the_index_links_the_dashboard_in_a_paragraph_not_a_table_cell(settings):
    settings.PORTAL_STAFF_REQUIRE_OTP = False
    html = signed_in(factories.isv_staff()).get("/admin/").content.decode()

    block = html[html.index('id="operations"'):html.index("</div>", html.index('id="operations"'))]
    assert '<a href="/admin/dashboard/" class="dashboard-link">Dashboard</a>' in block and "<table" not in block


def test_social_auth_tables_are_hidden_from_staff_and_read_only_for_superusers(settings):
    settings.PORTAL_STAFF_REQUIRE_OTP = False
    staff = signed_in(factories.isv_staff())
    root = signed_in(factories.user("root", is_staff=True, is_superuser=True))

    assert "social_django" not in staff.get("/admin/").content.decode()
    assert staff.get("/admin/social_django/usersocialauth/").status_code == 403
    assert root.get("/admin/social_django/usersocialauth/").status_code == 200
    assert root.get("/admin/social_django/usersocialauth/add/").status_code == 403


def test_a_long_name_is_cut_in_the_changelist_with_the_full_name_on_hover(settings):
    settings.PORTAL_STAFF_REQUIRE_OTP = False
    name = "Z" * 300  # unbroken: nothing to wrap at
    factories.organization(name, system_user_email="system@long.example")
    html = signed_in(factories.isv_staff()).get("/admin/tenants/clientorganization/").content.decode()

    assert f'<span class="cut" title="{name}">{name}</span>' in html


def test_the_navigation_puts_what_staff_use_first(settings):
    settings.PORTAL_STAFF_REQUIRE_OTP = False
    html = signed_in(factories.user("root", is_staff=True, is_superuser=True)).get("/admin/").content.decode()

    labels = ("tenants", "docusign_integration", "api", "outbound_events", "background", "auth")
    order = [html.index(f'class="app-{label} module') for label in labels]
    assert order == sorted(order)
