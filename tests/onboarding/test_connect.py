"""'Connect to DocuSign' end to end over loopback HTTP against the sandbox's real sign-in and consent pages."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from social_django.models import UserSocialAuth

from docusign_integration.keys import encryption
from docusign_integration.models import DocuSignCredential, OAuthState
from docusign_integration.oauth import state
from tenants.models import AccountSource, SystemUser
from tenants.onboarding import account_conflict
from tests.onboarding.conftest import DocuSignBrowser, connect, start_connect, token_requests

pytestmark = pytest.mark.usefixtures("sandbox")


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_connecting_a_single_account_user_stores_encrypted_tokens_and_links_the_account(sandbox, people, admin_client):
    query, response = connect(admin_client, sandbox, people.org_a.slug, "sender@initech.example")

    assert response.status_code == 302
    assert response["Location"] == f"/onboarding/{people.org_a.slug}/"
    assert response["Cache-Control"] == "no-store" and response["Referrer-Policy"] == "no-referrer"
    credential = DocuSignCredential.objects.get(organization=people.org_a, user=people.admin_a)
    assert credential.docusign_user_id == sandbox.user("sender@initech.example")["user_id"]
    assert set(credential.scopes.split()) == {"signature", "extended"}
    assert credential.get_access_token() and credential.get_refresh_token()
    people.org_a.refresh_from_db()
    initech = next(a for a in sandbox.seed["accounts"] if a["account_name"].startswith("Initech"))
    assert (people.org_a.account_id, people.org_a.base_uri) == (initech["account_id"], initech["base_uri"])
    page = admin_client.get(response["Location"])
    assert "Connected as" in page.content.decode() and "sender@initech.example" in page.content.decode()


def test_no_token_stays_in_social_auth_extra_data_or_anywhere_in_the_database(sandbox, people, admin_client):
    connect(admin_client, sandbox, people.org_a.slug, "sender@initech.example")
    credential = DocuSignCredential.objects.get(organization=people.org_a)
    secrets = [credential.get_access_token(), credential.get_refresh_token()]

    social = UserSocialAuth.objects.get(user=people.admin_a, provider="docusign")
    assert social.uid == credential.docusign_user_id
    assert not {"access_token", "refresh_token"} & set(social.extra_data)
    dump = _dump_portal_tables()
    assert all(secret not in dump for secret in secrets)


def _dump_portal_tables() -> str:
    """Every row of every table except the sandbox's (DocuSign's side), as text."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table.startswith("docusign_sandbox_"):
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 (names from the schema)
            rows += [repr(row) for row in cursor.fetchall()]
    return "\n".join(rows)


def test_the_authorization_request_uses_pkce_s256_the_exact_scopes_and_the_registered_redirect_uri(
        sandbox, people, admin_client, settings):
    url = start_connect(admin_client, people.org_a.slug)
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}

    assert url.startswith(f"{sandbox.url}/oauth/auth?")
    assert params["scope"] == "signature extended"
    assert params["redirect_uri"] == settings.DOCUSIGN_REDIRECT_URI
    assert params["client_id"] == settings.DOCUSIGN_INTEGRATION_KEY
    assert params["code_challenge_method"] == "S256"
    assert params["code_challenge"] == state.code_challenge(_stored_verifier())


def _stored_verifier() -> str:
    row = OAuthState.objects.get()
    return encryption.decrypt(row.code_verifier_ciphertext, context=encryption.model_context(row, "code_verifier_ciphertext"))


def test_the_pkce_verifier_never_reaches_the_browser(sandbox, people, admin_client):
    authorize_url = start_connect(admin_client, people.org_a.slug)
    verifier = _stored_verifier()
    browser = DocuSignBrowser(sandbox)
    query = browser.approve(authorize_url, "sender@initech.example")
    response = admin_client.get("/docusign/callback/", query)
    checklist = admin_client.get(response["Location"])

    seen = [authorize_url, *browser.seen, response["Location"], response.content.decode(), checklist.content.decode(),
            *(cookie.value for cookie in admin_client.cookies.values())]
    assert DocuSignCredential.objects.filter(organization=people.org_a).exists()  # the sandbox checked the verifier
    assert not any(verifier in text for text in seen)


def test_a_user_with_several_accounts_chooses_one_and_it_becomes_the_organizations(sandbox, people, admin_client):
    _, response = connect(admin_client, sandbox, people.org_a.slug, "multi@globex.example")
    assert response["Location"] == f"/onboarding/{people.org_a.slug}/account/"
    page = admin_client.get(response["Location"]).content.decode()
    hr, general = (next(a for a in sandbox.seed["accounts"] if a["account_name"] == name)
                   for name in ("Globex HR", "Globex General"))
    assert "Globex HR" in page and "Globex General" in page and "Default" in page and hr["account_id"] in page

    chosen = admin_client.post(response["Location"], {"account_id": general["account_id"]})

    assert chosen.status_code == 302
    people.org_a.refresh_from_db()
    assert (people.org_a.account_id, people.org_a.account_name) == (general["account_id"], "Globex General")


def globex_accounts(sandbox) -> tuple[dict, dict]:
    return tuple(next(a for a in sandbox.seed["accounts"] if a["account_name"] == name)  # type: ignore[return-value]
                 for name in ("Globex HR", "Globex General"))


def test_a_dedicated_account_staff_set_must_be_chosen_again(sandbox, people, admin_client):
    hr, general = globex_accounts(sandbox)
    people.org_a.account_id, people.org_a.account_source = hr["account_id"], AccountSource.STAFF
    people.org_a.save()
    connect(admin_client, sandbox, people.org_a.slug, "multi@globex.example")

    refused = admin_client.post(f"/onboarding/{people.org_a.slug}/account/", {"account_id": general["account_id"]})

    assert refused.status_code == 200
    assert any("already uses the DocuSign account" in m for m in messages_of(refused))
    people.org_a.refresh_from_db()
    assert people.org_a.account_id == hr["account_id"]


def test_the_account_consent_recorded_does_not_pre_empt_the_client_s_choice(sandbox, people, admin_client):
    """Consent records the system user's default account (Globex HR); the client admin then chooses Globex General."""
    hr, general = globex_accounts(sandbox)
    people.org_a.account_id, people.org_a.account_source = hr["account_id"], AccountSource.CONSENT
    people.org_a.save()
    SystemUser.objects.filter(organization=people.org_a).update(account_id=hr["account_id"])

    _, response = connect(admin_client, sandbox, people.org_a.slug, "multi@globex.example")
    assert response["Location"] == f"/onboarding/{people.org_a.slug}/account/"  # asked, not settled by consent
    chosen = admin_client.post(response["Location"], {"account_id": general["account_id"]})

    assert chosen.status_code == 302, messages_of(chosen)
    people.org_a.refresh_from_db()
    assert (people.org_a.account_id, people.org_a.account_source) == (general["account_id"], AccountSource.CLIENT)
    conflict = account_conflict(people.org_a, people.org_a.system_user)
    assert "Globex General" in conflict and hr["account_id"] in conflict and "Check consent" in conflict


def test_an_account_of_another_client_is_shown_unavailable_and_cannot_be_chosen(sandbox, people, admin_client):
    hr, general = globex_accounts(sandbox)
    people.org_b.account_id = general["account_id"]
    people.org_b.save()
    _, response = connect(admin_client, sandbox, people.org_a.slug, "multi@globex.example")

    page = admin_client.get(response["Location"]).content.decode()
    row = page[page.index("Globex General") - 400:page.index("Globex General") + 600]
    assert "disabled" in row and "Unavailable" in row and "linked to another client organization" in row
    refused = admin_client.post(response["Location"], {"account_id": general["account_id"]})

    assert refused.status_code == 200 and "linked to another client organization" in refused.content.decode()
    people.org_a.refresh_from_db()
    assert people.org_a.account_id is None


def test_an_account_linked_to_another_organization_is_refused(sandbox, people, admin_client):
    initech = next(a for a in sandbox.seed["accounts"] if a["account_name"].startswith("Initech"))
    people.org_b.account_id = initech["account_id"]
    people.org_b.save()

    _, response = connect(admin_client, sandbox, people.org_a.slug, "sender@initech.example")

    assert any("already linked to another client organization" in m for m in messages_of(response))
    people.org_a.refresh_from_db()
    assert people.org_a.account_id is None


def test_declining_on_docusign_shows_cancelled_on_the_checklist(sandbox, people, admin_client):
    before = token_requests()
    query = DocuSignBrowser(sandbox).approve(start_connect(admin_client, people.org_a.slug), "sender@initech.example",
                                             decision="decline")
    response = admin_client.get("/docusign/callback/", query)

    assert query["error"] == "access_denied"
    assert response.status_code == 302 and response["Location"] == f"/onboarding/{people.org_a.slug}/"
    assert "Connecting to DocuSign was cancelled." in messages_of(response)
    assert token_requests() == before and not DocuSignCredential.objects.exists()


def test_disconnect_deletes_the_tokens_and_the_social_auth_link(sandbox, people, admin_client):
    connect(admin_client, sandbox, people.org_a.slug, "sender@initech.example")

    response = admin_client.post(f"/onboarding/{people.org_a.slug}/disconnect/")

    assert response.status_code == 302
    assert not DocuSignCredential.objects.exists()
    assert not UserSocialAuth.objects.filter(provider="docusign").exists()
