"""Organization admin consent: `admin_consent_scope` at /oauth/auth and the Connected apps page (docs/docusign.md §3.2, §3.3)."""

from __future__ import annotations

import pytest
import requests

from tests.sandbox import assertion, authorize_url, csrf_token, decide, jwt_grant, redirect_params, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN_CONSENT = {"scope": "openid", "admin_consent_scope": "signature impersonation"}


def _system_user_jwt(sandbox) -> requests.Response:
    return jwt_grant(sandbox, assertion(sandbox, sub=sandbox.user("system@acme")["user_id"]))


def _organization_page(sandbox) -> str:
    return f"{sandbox.url}/organizations/f5d4a6e8-1b7c-4ecf-9a5b-000000000101/connected-apps"


def _grant_admin_consent(sandbox) -> requests.Response:
    with requests.Session() as session:
        page = sign_in(session, session.get(authorize_url(sandbox, **ADMIN_CONSENT), timeout=10), "admin@acme.example")
        assert "Allow access for your organization?" in page.text and "acme.example" in page.text
        return decide(session, page)


def test_an_org_admins_consent_covers_users_of_the_claimed_domain(sandbox):
    assert _system_user_jwt(sandbox).json() == {"error": "consent_required"}

    response = _grant_admin_consent(sandbox)

    assert response.status_code == 302
    assert redirect_params(response)["state"] == ["st-123"]
    granted = _system_user_jwt(sandbox)
    assert granted.status_code == 200 and granted.json()["expires_in"] == 3600


def test_organization_consent_does_not_reach_users_outside_the_claimed_domain(sandbox):
    _grant_admin_consent(sandbox)

    response = jwt_grant(sandbox, assertion(sandbox, sub=sandbox.user("multi@globex")["user_id"]))

    assert response.json() == {"error": "consent_required"}


@pytest.mark.parametrize("email", ["system@acme.example", "multi@globex.example"])
def test_a_user_who_administers_no_organization_is_refused_admin_consent(sandbox, email):
    with requests.Session() as session:
        page = session.get(authorize_url(sandbox, **ADMIN_CONSENT), timeout=10)
        response = sign_in(session, page, email)

    assert response.status_code == 403
    assert "Organization administrator required" in response.text
    assert "Location" not in response.headers
    assert _system_user_jwt(sandbox).json() == {"error": "consent_required"}


def test_an_org_admin_revokes_and_grants_again_on_the_organization_page(sandbox):
    _grant_admin_consent(sandbox)
    with requests.Session() as session:
        sign_in(session, session.get(f"{sandbox.url}/login", timeout=10), "admin@acme.example")
        page = session.get(_organization_page(sandbox), timeout=10)
        assert "ISV Partner Portal" in page.text and "impersonation signature" in page.text

        revoked = session.post(f"{_organization_page(sandbox)}/{sandbox.seed['integration_key']}/revoke",
                               data={"csrfmiddlewaretoken": csrf_token(page)}, timeout=10)
        assert "No app is allowed for the organization." in revoked.text
        assert _system_user_jwt(sandbox).json() == {"error": "consent_required"}

        granted = session.post(_organization_page(sandbox), timeout=10, data={
            "csrfmiddlewaretoken": csrf_token(revoked), "client_id": sandbox.seed["integration_key"],
            "scopes": "signature impersonation"})

    assert "Consent was granted for the organization." in granted.text
    assert _system_user_jwt(sandbox).status_code == 200


def test_a_member_cannot_open_the_organization_page(sandbox):
    with requests.Session() as session:
        sign_in(session, session.get(f"{sandbox.url}/login", timeout=10), "system@acme.example")
        response = session.get(_organization_page(sandbox), timeout=10)

    assert response.status_code == 403
    assert "Only an administrator of this organization" in response.text
