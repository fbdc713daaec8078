"""A way out when an encryption key is truly lost: `rotate_encryption_keys --forget-lost-key KEYID` (docs/security.md TS-2).

Every kind of stored secret (cached JWT tokens, OAuth sign-ins in progress, client admins' connections, Connect HMAC
keys) exists under key A, and under key B for a second organization. Key A is then lost: only B is configured.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from docusign_integration.connect.hmac import connect_hmac_key_add
from docusign_integration.keys import encryption, stored_keys
from docusign_integration.models import CachedAccessToken, ConnectHMACKey, DocuSignCredential, OAuthState
from docusign_integration.oauth import credentials
from docusign_integration.oauth.account_server import TokenResponse, UserAccount, UserInfo
from docusign_integration.oauth.models.credentials import CredentialStatus
from tenants.models import AuditEvent, ClientOrganization
from tests import factories
from tests.security.test_key_fingerprint import key_id, manage, new_key, portal_env, start_web, start_worker

KEY_A, KEY_B = new_key(), new_key()
A, B = key_id(KEY_A), key_id(KEY_B)


@dataclass
class Secrets:
    """One row of each encrypted model, all under one key."""

    token: CachedAccessToken
    state: OAuthState
    credential: DocuSignCredential
    hmac_key: ConnectHMACKey


def store_secrets(settings, key: str, organization: ClientOrganization, admin) -> Secrets:
    """Each kind of secret, written through the code that writes it in production, under `key` only."""
    settings.PORTAL_ENCRYPTION_KEYS = [key]
    token = CachedAccessToken(environment="sandbox", user_id=str(uuid.uuid4()), scopes="signature impersonation")
    token.set_access_token(f"CANARY-jwt-{uuid.uuid4()}", timezone.now() + timedelta(hours=1))
    token.save()
    now = timezone.now()
    state = OAuthState(state_hash=uuid.uuid4().hex * 2, flow="authorization_code", environment="sandbox",
                       organization_id=organization.pk, session_key_hash="0" * 64, user_id=admin.pk,
                       created_at=now, expires_at=now + timedelta(minutes=10))
    state.code_verifier_ciphertext = encryption.encrypt(
        "CANARY-verifier", context=encryption.model_context(state, "code_verifier_ciphertext"))
    state.save()
    tokens = TokenResponse(access_token=f"CANARY-at-{uuid.uuid4()}", expires_in=3600,
                           refresh_token=f"CANARY-rt-{uuid.uuid4()}", scope="signature extended")
    userinfo = UserInfo(sub=str(uuid.uuid4()), name="Client Admin", email=f"{admin.username}@docusign.example",
                        accounts=[UserAccount(str(uuid.uuid4()), "Account", "https://demo.docusign.net", True)])
    credential = credentials.credential_store(acting_user=admin, organization=organization, tokens=tokens,
                                              userinfo=userinfo, environment="sandbox")
    hmac_key = connect_hmac_key_add(acting_user=None, environment="sandbox", label=f"{organization.name} key",
                                    secret=f"CANARY-hmac-{uuid.uuid4()}", organization=organization,
                                    key_id=str(uuid.uuid4()))
    return Secrets(token, state, credential, hmac_key)


@dataclass
class World:
    people: factories.Personas
    under_a: Secrets
    under_b: Secrets


@pytest.fixture
def world(transactional_db, settings) -> World:
    """Organization A's secrets under key A, organization B's under key B; then key A is lost (only B configured).

    transactional_db: the start-up check closes its connection, as web and worker need, which would end the test's
    transaction on PostgreSQL.
    """
    people = factories.personas()
    under_a = store_secrets(settings, KEY_A, people.org_a, people.admin_a)
    under_b = store_secrets(settings, KEY_B, people.org_b, people.admin_b)
    settings.PORTAL_ENCRYPTION_KEYS = [KEY_B]
    return World(people, under_a, under_b)


def start_up_refusal() -> str | None:
    """What web and worker say when they refuse to start (docusign.E009), or None when they would start."""
    try:
        stored_keys.validate_keys_at_start()
    except ImproperlyConfigured as exc:
        return str(exc)
    return None


def forget(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate_encryption_keys", "--forget-lost-key", *args, stdout=out)
    return out.getvalue()


def ciphertexts() -> dict[str, list[str]]:
    """Every stored ciphertext, by model, to show what a command changed."""
    return {entry.model._meta.label: sorted(value for row in entry.model.objects.values_list(*entry.fields)
                                            for value in row)
            for entry in encryption.registered()}


def checklist(user, organization: ClientOrganization) -> str:
    """The onboarding checklist as the client admin sees it."""
    client = Client()
    client.force_login(user)
    page = client.get(reverse("onboarding:checklist", args=[organization.slug]))
    assert page.status_code == 200
    return page.content.decode()


def test_web_and_worker_refuse_to_start_naming_the_lost_key(world):
    refusal = start_up_refusal()
    assert refusal is not None and "docusign.E009" in refusal
    assert f"{A} (5 secret(s))" in refusal  # token, verifier, access + refresh token, HMAC secret
    assert B not in refusal.split("(configured")[0]


def test_without_yes_it_lists_what_it_would_do_and_changes_nothing(world):
    before = ciphertexts()
    output = forget(A)
    assert f"docusign_integration.CachedAccessToken: 1 row(s) under key {A}: Delete" in output
    assert f"docusign_integration.OAuthState: 1 row(s) under key {A}: Delete" in output
    assert f"docusign_integration.DocuSignCredential: 1 row(s) under key {A}: Mark" in output
    assert f"docusign_integration.ConnectHMACKey: 1 row(s) under key {A}: Retire" in output
    assert "Nothing was changed" in output and "--yes" in output
    assert forget(A, "--yes", "--dry-run").count("Nothing was changed") == 1
    assert ciphertexts() == before
    assert ConnectHMACKey.objects.filter(active=True).count() == 2
    assert not AuditEvent.objects.filter(action__endswith="discarded_lost_key").exists()
    assert A in start_up_refusal()


def test_with_yes_every_secret_under_the_lost_key_is_given_up(world):
    a, b = world.under_a, world.under_b
    b_before = {label: [value for value in values if f".{B}." in value] for label, values in ciphertexts().items()}
    output = forget(A, "--yes")
    assert f"Forgot key {A}" in output

    # Cached JWT tokens and sign-ins in progress are simply gone.
    assert not CachedAccessToken.objects.filter(pk=a.token.pk).exists()
    assert not OAuthState.objects.filter(pk=a.state.pk).exists()

    # The client admin's connection needs reconnecting, without its unreadable tokens, and it is audited.
    credential = DocuSignCredential.objects.get(pk=a.credential.pk)
    assert credential.status == CredentialStatus.NEEDS_RECONNECT
    assert credential.access_token_ciphertext == credential.refresh_token_ciphertext == ""
    event = AuditEvent.objects.get(action="docusign_credential.discarded_lost_key")
    assert event.organization == world.people.org_a and event.after["encryption_key_id"] == A
    with pytest.raises(credentials.ReconnectRequired, match="connect to DocuSign again"):
        credentials.get_valid_access_token(credential)
    page = checklist(world.people.admin_a, world.people.org_a)
    assert "Needs reconnecting" in page and credentials.LOST_KEY_MESSAGE in page and "Reconnect to DocuSign" in page

    # The HMAC key is retired and empty, its description kept for staff, who add the secret again from DocuSign.
    hmac_key = ConnectHMACKey.objects.get(pk=a.hmac_key.pk)
    assert not hmac_key.active and hmac_key.retired_at is not None and hmac_key.secret_ciphertext == ""
    discarded = AuditEvent.objects.get(action="connect_hmac_key.discarded_lost_key")
    assert discarded.after["label"] == "Organization A key" and discarded.after["scope"] == "account"
    assert discarded.after["environment"] == "sandbox" and discarded.after["key_id"] == a.hmac_key.key_id
    assert AuditEvent.objects.filter(action="connect_hmac_key.retired", organization=world.people.org_a).exists()

    # Nothing records key A any more: web and worker start, and --check is satisfied.
    assert start_up_refusal() is None
    call_command("rotate_encryption_keys", "--check", stdout=io.StringIO())

    # Organization B, under key B, is untouched and still readable.
    assert {label: [value for value in values if f".{B}." in value] for label, values in ciphertexts().items()} == b_before
    assert CachedAccessToken.objects.get(pk=b.token.pk).get_access_token().startswith("CANARY-jwt-")
    assert DocuSignCredential.objects.get(pk=b.credential.pk).get_refresh_token().startswith("CANARY-rt-")
    assert ConnectHMACKey.objects.get(pk=b.hmac_key.pk).active
    assert "Needs reconnecting" not in checklist(world.people.admin_b, world.people.org_b)


def test_staff_see_a_forgotten_secret_as_discarded_not_as_tampered(world):
    forget(A, "--yes")
    listing = io.StringIO()
    call_command("connect_hmac_key", "list", stdout=listing)
    lines = {line.split()[0]: line for line in listing.getvalue().splitlines() if line.strip()}
    assert "none stored (discarded)" in lines[str(world.under_a.hmac_key.pk)]
    assert "…" + world.under_b.hmac_key.get_secret()[-4:] in lines[str(world.under_b.hmac_key.pk)]

    staff = Client()
    staff.force_login(factories.user("operator", is_staff=True, is_superuser=True))
    page = staff.get(reverse("admin:docusign_integration_docusigncredential_change", args=[world.under_a.credential.pk]))
    assert page.status_code == 200 and page.content.decode().count("none stored (discarded)") == 2
    assert "unreadable" not in page.content.decode()


def test_the_client_admin_connects_again_after_the_key_was_forgotten(world):
    forget(A, "--yes")
    tokens = TokenResponse(access_token="CANARY-new-at", expires_in=3600, refresh_token="CANARY-new-rt",
                           scope="signature extended")
    userinfo = UserInfo(sub=str(uuid.uuid4()), name="Client Admin", email="admin-a@docusign.example", accounts=[])
    credentials.credential_store(acting_user=world.people.admin_a, organization=world.people.org_a, tokens=tokens,
                                 userinfo=userinfo, environment="sandbox")
    credential = DocuSignCredential.objects.get(pk=world.under_a.credential.pk)
    assert credential.status == CredentialStatus.OK and credentials.get_valid_access_token(credential) == "CANARY-new-at"
    assert "Needs reconnecting" not in checklist(world.people.admin_a, world.people.org_a)


@pytest.mark.parametrize("key", ["configured", "xyz", "1234567", "123456789", "1234567g"])
def test_it_refuses_a_configured_or_malformed_key_id(world, key):
    before = ciphertexts()
    with pytest.raises(CommandError, match="is configured" if key == "configured" else "not a key id"):
        forget(B if key == "configured" else key, "--yes")
    assert ciphertexts() == before
    assert not AuditEvent.objects.filter(action__endswith="discarded_lost_key").exists()


def test_a_key_that_no_secret_records_is_nothing_to_forget(world):
    before = ciphertexts()
    assert "nothing to forget" in forget("0123abcd", "--yes")
    assert ciphertexts() == before


def test_web_and_worker_start_again_once_the_lost_key_is_forgotten(tmp_path):
    """The real processes, on a SQLite file whose only secret is under a key that is then lost."""
    database = tmp_path / "portal.sqlite3"
    assert manage(portal_env(database, KEY_A), "migrate", "--no-input", "-v", "0").returncode == 0
    assert manage(portal_env(database, KEY_A), "connect_hmac_key", "add", "--label", "ISV key",
                  stdin="CANARY-hmac-secret-0123456789\n").returncode == 0
    lost = portal_env(database, KEY_B)
    assert not start_web(lost, tmp_path / "refused.log").up

    listed = manage(lost, "rotate_encryption_keys", "--forget-lost-key", A)
    assert listed.returncode == 0 and "--yes" in listed.stdout
    assert manage(lost, "rotate_encryption_keys", "--check").returncode == 1
    forgotten = manage(lost, "rotate_encryption_keys", "--forget-lost-key", A, "--yes")
    assert forgotten.returncode == 0, forgotten.stderr
    assert manage(lost, "rotate_encryption_keys", "--check").returncode == 0
    assert manage(lost, "check", "--database", "default").returncode == 0
    for starter in (start_web, start_worker):
        started = starter(lost, tmp_path / f"{starter.__name__}.log")
        assert started.up, started.output
