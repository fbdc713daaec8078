"""A client admin of two organizations: "Connect to DocuSign" for one stores the connection on that one, never the other.

Driven end to end against the sandbox's sign-in and consent pages; the organization comes from the consumed
state (`pipeline.require_connecting_admin`), not from whichever membership the user happens to have first.
"""

from __future__ import annotations

import pytest

from docusign_integration.models import DocuSignCredential
from tenants.models import AuditEvent, ClientMembership, MembershipRole
from tests.onboarding.conftest import DocuSignBrowser, connect, start_connect

pytestmark = pytest.mark.usefixtures("sandbox")


@pytest.fixture
def admin_of_both(people):
    """admin_a, an admin of organization A (their first membership), made an admin of organization B too."""
    ClientMembership.objects.create(user=people.admin_a, organization=people.org_b, role=MembershipRole.ADMIN)
    return people.admin_a


def connection_of(organization) -> tuple[str, str, int, object] | None:
    """Whose connection the organization holds, and when it was stored (never a token: a failure prints this)."""
    credential = DocuSignCredential.objects.filter(organization=organization).first()
    if credential is None:
        return None
    return credential.user.get_username(), credential.docusign_email, credential.pk, credential.refresh_expires_at


def test_connecting_for_the_second_organization_stores_the_connection_on_the_second(
        sandbox, people, admin_of_both, admin_client):
    _, response = connect(admin_client, sandbox, people.org_b.slug, "admin@acme.example")

    assert response["Location"] == f"/onboarding/{people.org_b.slug}/"
    assert connection_of(people.org_a) is None
    user, email, *_ = connection_of(people.org_b)
    assert (user, email) == (admin_of_both.get_username(), "admin@acme.example")
    people.org_a.refresh_from_db()
    people.org_b.refresh_from_db()
    acme = next(a for a in sandbox.seed["accounts"] if a["account_name"].startswith("Acme"))
    assert (people.org_a.account_id, people.org_b.account_id) == (None, acme["account_id"])
    assert AuditEvent.objects.get(action="docusign.connect").organization == people.org_b
    assert "Connected as" in admin_client.get(f"/onboarding/{people.org_b.slug}/").content.decode()
    assert "Connected as" not in admin_client.get(f"/onboarding/{people.org_a.slug}/").content.decode()


def test_connecting_for_the_second_leaves_the_first_organizations_connection_as_it_was(
        sandbox, people, admin_of_both, admin_client):
    connect(admin_client, sandbox, people.org_a.slug, "sender@initech.example")
    first = connection_of(people.org_a)

    connect(admin_client, sandbox, people.org_b.slug, "admin@acme.example")

    assert connection_of(people.org_a) == first
    assert connection_of(people.org_b)[1] == "admin@acme.example"
    assert DocuSignCredential.objects.filter(user=admin_of_both).count() == 2


def test_two_connections_started_in_two_tabs_each_land_on_their_own_organization(
        sandbox, people, admin_of_both, admin_client):
    for_a = start_connect(admin_client, people.org_a.slug)
    for_b = start_connect(admin_client, people.org_b.slug)

    # The person finishes the tab for B first, then the one for A.
    admin_client.get("/docusign/callback/", DocuSignBrowser(sandbox).approve(for_b, "admin@acme.example"))
    assert connection_of(people.org_a) is None
    assert connection_of(people.org_b)[1] == "admin@acme.example"
    admin_client.get("/docusign/callback/", DocuSignBrowser(sandbox).approve(for_a, "sender@initech.example"))

    assert connection_of(people.org_a)[1] == "sender@initech.example"
    assert connection_of(people.org_b)[1] == "admin@acme.example"
