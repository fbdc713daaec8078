"""Consent for the system user, end to end over loopback HTTP against the sandbox's real pages."""

from __future__ import annotations

import contextlib
import io
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.test import Client

from docusign_integration.keys import encryption
from docusign_integration.models import OAuthState
from docusign_integration.oauth import state
from docusign_sandbox.models import RequestLog
from docusign_sandbox.seed import ACME_ORG_ID
from tenants.models import AuditEvent, ConsentStatus, ConsentType, SystemUser
from tests import factories
from tests.onboarding.conftest import DocuSignBrowser, token_requests
from tests.tenants.sandbox_pages import approve_consent, revoke_individual, revoke_organization

pytestmark = pytest.mark.usefixtures("sandbox")


@pytest.fixture
def staff_client(sandbox) -> Client:
    client = Client()
    client.force_login(factories.isv_staff())
    return client


def provision_for(sandbox, email: str, name: str = "Acme", **kwargs):
    seeded = sandbox.user(email)
    return factories.organization(name, system_user_id=seeded["user_id"], system_user_email=seeded["email"], **kwargs)


def check(organization) -> SystemUser:
    """Run `check_consent` for one organization; it exits 1 unless granted, so read the recorded outcome instead."""
    with contextlib.suppress(SystemExit):
        call_command("check_consent", "--org", organization.slug, stdout=io.StringIO(), stderr=io.StringIO())
    return SystemUser.objects.get(organization=organization)


def callback(client: Client, query: dict[str, str]):
    return client.get("/docusign/callback/", query)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_a_new_system_user_without_consent_is_consent_required(sandbox):
    organization = provision_for(sandbox, "system@acme.example")

    system_user = check(organization)

    assert system_user.consent_status == ConsentStatus.REQUIRED
    assert "consent" in system_user.last_error.lower()
    assert organization.account_id is None


def test_individual_consent_through_docusign_pages_is_verified_and_revocation_is_noticed(sandbox, staff_client):
    organization = provision_for(sandbox, "system@acme.example")

    query = approve_consent(staff_client, sandbox, organization.slug, "individual", "system@acme.example")
    response = callback(staff_client, query)

    assert response.status_code == 302
    assert "code=" not in response["Location"] and response["Cache-Control"] == "no-store"
    organization.refresh_from_db()
    system_user = organization.system_user
    assert system_user.consent_status == ConsentStatus.GRANTED
    assert system_user.consent_type == ConsentType.INDIVIDUAL
    assert system_user.verified_at is not None and system_user.last_error == ""
    acme = next(a for a in sandbox.seed["accounts"] if a["account_name"].startswith("Acme"))
    assert (organization.account_id, organization.base_uri) == (acme["account_id"], acme["base_uri"])
    assert any("Consent granted" in m for m in messages_of(response))

    revoke_individual(sandbox, "system@acme.example")
    system_user = check(organization)

    assert system_user.consent_status == ConsentStatus.REVOKED
    assert system_user.consent_type == ConsentType.INDIVIDUAL  # a bulk check keeps how consent was obtained


def test_organization_admin_consent_covers_the_system_user_and_org_revocation_is_noticed(sandbox, staff_client):
    organization = provision_for(sandbox, "system@acme.example")

    query = approve_consent(staff_client, sandbox, organization.slug, "admin", "admin@acme.example")
    callback(staff_client, query)

    organization.refresh_from_db()
    assert organization.system_user.consent_status == ConsentStatus.GRANTED
    assert organization.system_user.consent_type == ConsentType.ORGANIZATION_ADMIN
    assert organization.organization_id == ACME_ORG_ID

    revoke_organization(sandbox, "admin@acme.example", ACME_ORG_ID)

    assert check(organization).consent_status == ConsentStatus.REVOKED


def test_declining_on_docusign_is_reported_as_cancelled_and_changes_nothing(sandbox, staff_client):
    organization = provision_for(sandbox, "system@acme.example")

    query = approve_consent(staff_client, sandbox, organization.slug, "individual", "system@acme.example", decision="decline")
    response = callback(staff_client, query)

    assert response.status_code == 302
    assert any("cancelled" in m for m in messages_of(response))
    assert SystemUser.objects.get(organization=organization).consent_status == ConsentStatus.UNKNOWN


def test_consent_by_someone_other_than_the_system_user_is_refused(sandbox, staff_client):
    organization = provision_for(sandbox, "system@acme.example")

    query = approve_consent(staff_client, sandbox, organization.slug, "individual", "sender@initech.example")
    response = callback(staff_client, query)

    assert any("Sign in to DocuSign as system@acme.example" in m for m in messages_of(response))
    assert SystemUser.objects.get(organization=organization).consent_status == ConsentStatus.UNKNOWN


def test_a_replayed_callback_is_rejected(sandbox, staff_client):
    organization = provision_for(sandbox, "system@acme.example")
    query = approve_consent(staff_client, sandbox, organization.slug, "individual", "system@acme.example")
    callback(staff_client, query)

    assert callback(staff_client, query).status_code == 400
    assert callback(Client(), {"state": "forged", "code": "x"}).status_code == 400


def globex_accounts(sandbox) -> dict[str, dict]:
    return {a["account_name"]: a for a in sandbox.seed["accounts"] if a["account_name"].startswith("Globex")}


def test_multi_account_user_uses_the_default_account_unless_a_dedicated_one_is_set(sandbox, staff_client):
    accounts = globex_accounts(sandbox)
    default = provision_for(sandbox, "multi@globex.example", name="Globex default")
    dedicated = provision_for(sandbox, "multi@globex.example", name="Globex general",
                              account_id=accounts["Globex General"]["account_id"])
    callback(staff_client, approve_consent(staff_client, sandbox, default.slug, "individual", "multi@globex.example"))

    check(dedicated)
    default.refresh_from_db()
    dedicated.refresh_from_db()

    assert default.account_name == "Globex HR"
    assert (dedicated.account_name, dedicated.base_uri) == ("Globex General", accounts["Globex General"]["base_uri"])
    assert dedicated.system_user.last_error == ""


def test_an_unreachable_dedicated_account_is_a_clear_error(sandbox, staff_client):
    acme = next(a for a in sandbox.seed["accounts"] if a["account_name"].startswith("Acme"))
    organization = provision_for(sandbox, "sender@initech.example", name="Initech", account_id=acme["account_id"])

    system_user = check(organization)

    assert system_user.consent_status == ConsentStatus.GRANTED
    assert "does not belong to the chosen account" in system_user.last_error
    organization.refresh_from_db()
    assert organization.base_uri == ""


def test_one_docusign_account_is_never_linked_to_two_organizations(sandbox):
    first = provision_for(sandbox, "sender@initech.example", name="Initech")
    second = provision_for(sandbox, "sender@initech.example", name="Initech again")
    check(first)

    system_user = check(second)

    second.refresh_from_db()
    assert second.account_id is None
    assert "already linked to another client organization" in system_user.last_error
    assert AuditEvent.objects.filter(organization=second, action="organization.account_link_refused").exists()


def test_check_consent_exits_1_unless_every_organization_is_granted(sandbox):
    granted = provision_for(sandbox, "sender@initech.example", name="Initech")
    out = io.StringIO()
    call_command("check_consent", "--org", granted.slug, stdout=out, stderr=io.StringIO())
    assert "1 of 1 granted" in out.getvalue()

    provision_for(sandbox, "system@acme.example", name="Acme")
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("check_consent", "--all", stdout=out, stderr=io.StringIO())

    assert exited.value.code == 1
    assert "1 of 2 granted, 1 need attention" in out.getvalue()


# --- PKCE (S256) on both consent links (docs/security.md OA-2) ------------------------------------------------

CONSENTERS = [("individual", "system@acme.example"), ("admin", "admin@acme.example")]


def start_consent(client: Client, slug: str, kind: str) -> str:
    """Open the portal's consent link; return DocuSign's authorization URL it redirects to."""
    response = client.get(f"/docusign/consent/{slug}/{kind}/")
    assert response.status_code == 302, response.status_code
    return response["Location"]


def stored_verifier() -> str:
    row = OAuthState.objects.get()
    assert row.code_verifier_ciphertext, "the consent flow kept no PKCE verifier in its state record"
    return encryption.decrypt(row.code_verifier_ciphertext, context=encryption.model_context(row, "code_verifier_ciphertext"))


@pytest.mark.parametrize("kind", ["individual", "admin"])
def test_the_consent_link_carries_the_s256_challenge_of_the_verifier_kept_in_the_state_record(sandbox, staff_client, kind):
    organization = provision_for(sandbox, "system@acme.example")

    url = start_consent(staff_client, organization.slug, kind)

    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert params.get("code_challenge_method") == "S256"
    verifier = stored_verifier()
    assert params.get("code_challenge") == state.code_challenge(verifier)
    assert verifier not in url and "code_verifier" not in params


@pytest.mark.parametrize(("kind", "email"), CONSENTERS)
def test_the_consent_verifier_never_reaches_the_browser_and_docusign_accepts_it(sandbox, staff_client, kind, email):
    organization = provision_for(sandbox, "system@acme.example")
    authorize_url = start_consent(staff_client, organization.slug, kind)
    verifier = stored_verifier()
    browser = DocuSignBrowser(sandbox)

    response = callback(staff_client, browser.approve(authorize_url, email))
    page = staff_client.get(response["Location"])

    # DocuSign (the sandbox) refuses the code of a request with a challenge unless the verifier matches.
    assert SystemUser.objects.get(organization=organization).consent_status == ConsentStatus.GRANTED
    seen = [authorize_url, *browser.seen, response["Location"], response.content.decode(), page.content.decode(),
            *(cookie.value for cookie in staff_client.cookies.values())]
    assert not any(verifier in text for text in seen)


@pytest.mark.parametrize(("kind", "email"), CONSENTERS)
def test_a_code_redeemed_with_another_verifier_is_refused_by_docusign_and_nothing_is_recorded(
        sandbox, staff_client, kind, email):
    organization = provision_for(sandbox, "system@acme.example")
    authorize_url = start_consent(staff_client, organization.slug, kind)
    row = OAuthState.objects.get()  # as if the stored verifier had been swapped: the token request must carry it
    row.code_verifier_ciphertext = encryption.encrypt(
        state.new_code_verifier(), context=encryption.model_context(row, "code_verifier_ciphertext"))
    row.save()
    query = DocuSignBrowser(sandbox).approve(authorize_url, email)
    before = token_requests()

    response = callback(staff_client, query)

    assert response.status_code == 302
    assert token_requests() == before + 1  # the code exchange only: no JWT grant follows a refused exchange
    assert RequestLog.objects.filter(method="POST", path="/oauth/token").latest("pk").status == 400
    assert messages_of(response) and "Consent granted" not in " ".join(messages_of(response))
    assert SystemUser.objects.get(organization=organization).consent_status == ConsentStatus.UNKNOWN
    assert not AuditEvent.objects.filter(organization=organization, action="consent.check").exists()


def test_a_consent_state_without_a_verifier_is_refused_before_any_token_request(sandbox, staff_client):
    organization = provision_for(sandbox, "system@acme.example")
    authorize_url = start_consent(staff_client, organization.slug, "individual")
    OAuthState.objects.update(code_verifier_ciphertext="")  # a state record of a link issued without PKCE
    query = DocuSignBrowser(sandbox).approve(authorize_url, "system@acme.example")
    before = token_requests()

    response = callback(staff_client, query)

    assert response.status_code == 400
    assert token_requests() == before
    assert SystemUser.objects.get(organization=organization).consent_status == ConsentStatus.UNKNOWN
