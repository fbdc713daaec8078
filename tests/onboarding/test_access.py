"""docs/security.md TI-1, TI-3: onboarding pages are scoped to the user's own organization and role."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from pages import urls as onboarding_urls
from tests.onboarding.conftest import member_of

ORGANIZATION_PATTERNS = {p.name: p.pattern.converters for p in onboarding_urls.urlpatterns if "slug" in p.pattern.converters}
# Ids of objects under the organization: the organization check must answer before any of them is looked up.
PLACEHOLDER_ID = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
ADMIN_ACTIONS = [("post", "onboarding:connect"), ("post", "onboarding:disconnect"), ("get", "onboarding:account"),
                 ("post", "onboarding:account")]


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", sorted(ORGANIZATION_PATTERNS))
def test_another_organizations_admin_gets_the_same_404_as_for_a_nonexistent_organization(people, method, name):
    outsider = Client()
    outsider.force_login(people.admin_b)
    ids = {key: PLACEHOLDER_ID for key in ORGANIZATION_PATTERNS[name] if key != "slug"}
    url = reverse(f"onboarding:{name}", kwargs={"slug": people.org_a.slug, **ids})
    nonexistent = reverse(f"onboarding:{name}", kwargs={"slug": "no-such-organization", **ids})

    response = getattr(outsider, method)(url)

    if response.status_code == 405:  # a GET-only or POST-only page answers the method first, for every slug alike
        assert getattr(outsider, method)(nonexistent).status_code == 405
        return
    assert response.status_code == 404
    assert getattr(outsider, method)(nonexistent).status_code == 404


def test_every_page_except_the_index_and_the_invitation_is_scoped_to_an_organization():
    unscoped = {p.name for p in onboarding_urls.urlpatterns} - set(ORGANIZATION_PATTERNS)

    assert unscoped == {"index", "invitation_accept"}


@pytest.mark.parametrize(("method", "name"), ADMIN_ACTIONS)
def test_a_member_without_the_admin_role_gets_403_on_admin_actions(people, method, name):
    member = Client()
    member.force_login(member_of(people.org_a))

    response = getattr(member, method)(reverse(name, args=[people.org_a.slug]))

    assert response.status_code == 403


def test_a_member_sees_the_checklist_without_admin_buttons(people):
    member = Client()
    member.force_login(member_of(people.org_a))

    page = member.get(reverse("onboarding:checklist", args=[people.org_a.slug]))

    assert page.status_code == 200
    assert b"Connect to DocuSign" in page.content and b'action="/onboarding/' not in page.content


def test_a_demoted_admin_loses_admin_actions_on_the_next_request(people, admin_client):
    people.admin_a.client_memberships.update(role="member")

    assert admin_client.post(reverse("onboarding:connect", args=[people.org_a.slug])).status_code == 403


def test_onboarding_pages_require_sign_in(people):
    response = Client().get(reverse("onboarding:checklist", args=[people.org_a.slug]))

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
