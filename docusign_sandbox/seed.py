"""The sandbox's fixed world: the ISV's integration key, its customers' accounts, users and consents.

Idempotent: fixed GUIDs and emails, so running it again changes nothing but fills in what is missing.
Only the sha256 of the client secret is stored; the secret and the RSA private key live in files (0600).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction

from . import router, sites
from .consent import consent_kind, grant_individual
from .models import (
    Account,
    ClaimedDomain,
    HMACKey,
    IntegrationKey,
    Membership,
    Organization,
    RedirectURI,
    RSAPublicKey,
    User,
)

PASSWORD = "sandbox-password-1"
JWT_SCOPES = {"signature", "impersonation"}
ISV_NAME = "ISV Partner Portal"
ACME_ORG_ID = "f5d4a6e8-1b7c-4ecf-9a5b-000000000101"
# The ISV's own organization: it claims isv.example, so its admin's one organization consent covers every hosted
# client's system user (docusign+{slug}@isv.example) the portal creates in the partner account.
ISV_ORG_ID = "f5d4a6e8-1b7c-4ecf-9a5b-000000000401"

# accountSettingsInformation as DocuSign returns it: every value a string (docs/docusign.md §6).
DEFAULT_ACCOUNT_SETTINGS = {
    "envelopeIntegrationEnabled": "true",
    "allowEnvelopeCorrect": "true",
    "allowSigningGroups": "true",
    "attachCompletedEnvelope": "false",
    "enableSequentialSigningAPI": "true",
    "enableSequentialSigningUI": "true",
    "signerCanSignOnMobile": "true",
    "enableSendToAgent": "false",
    "enableCalculatedFields": "true",
    "enableClickwraps": "false",
    "enableReservedDomain": "false",
    "dataPopulationScope": "Document",
    "sessionTimeout": "20",
    "useAccountLevelEmail": "false",
    "allowEnvelopeCustomFields": "true",
    "documentRetention": "",
    "timezoneOffsetAPI": "utc",
}


@dataclass(frozen=True)
class SeedAccount:
    account_id: str
    account_number: str
    name: str
    second_site: bool = False  # served at the seed's second origin (docs/sandbox.md "Sites")


@dataclass(frozen=True)
class SeedUser:
    user_id: str
    email: str
    name: str
    memberships: tuple[tuple[SeedAccount, bool, bool], ...]  # (account, is_admin, is_default)
    consented: bool = False


ACME = SeedAccount("b1f0c2a4-6d3e-4a8b-9c1d-000000000101", "10000001", "Acme Corp")
GLOBEX_HR = SeedAccount("c2a1d3b5-7e4f-4b9c-8d2e-000000000201", "10000002", "Globex HR", second_site=True)
GLOBEX_GENERAL = SeedAccount("c2a1d3b5-7e4f-4b9c-8d2e-000000000202", "10000003", "Globex General",
                             second_site=True)
INITECH = SeedAccount("d3b2e4c6-8f5a-4cad-9e3f-000000000301", "10000004", "Initech", second_site=True)
PARTNER = SeedAccount("e4c3f5d7-9a6b-4dbe-8f4a-000000000401", "10000005", "ISV Partner Account")

USERS = (
    SeedUser("a0000001-0000-4000-8000-000000000001", "system@acme.example", "Acme System",
             ((ACME, False, True),)),
    SeedUser("a0000001-0000-4000-8000-000000000002", "admin@acme.example", "Alice Admin",
             ((ACME, True, True),)),
    SeedUser("a0000001-0000-4000-8000-000000000003", "multi@globex.example", "Morgan Multi",
             ((GLOBEX_HR, True, True), (GLOBEX_GENERAL, True, False))),
    SeedUser("a0000001-0000-4000-8000-000000000004", "sender@initech.example", "Sam Sender",
             ((INITECH, False, True),), consented=True),
    SeedUser("a0000001-0000-4000-8000-000000000005", "staff@isv.example", "Pat Partner",
             ((PARTNER, True, True),)),
)


def seed(*, integration_key: str, private_key_path: Path, client_secret_path: Path, redirect_uris: list[str],
         base_url: str) -> dict:
    """Create or complete the sandbox's world; return what `manage.py sandbox_seed --json` prints."""
    with transaction.atomic(using=router.database()):
        key = IntegrationKey.objects.get_or_create(client_id=integration_key, defaults={"name": ISV_NAME})[0]
        client_secret = _ensure_client_secret(key, client_secret_path)
        _ensure_rsa_key(key, private_key_path)
        for uri in redirect_uris:
            RedirectURI.objects.get_or_create(integration_key=key, uri=uri)
        accounts = _ensure_accounts(base_url)
        key.partner_account = accounts[PARTNER.account_id]
        key.save(update_fields=["partner_account"])
        _ensure_hmac_keys(key.partner_account)
        users = [_ensure_user(spec, accounts, key) for spec in USERS]
        _ensure_acme_organization(accounts[ACME.account_id], next(u for u in users if u.email == "admin@acme.example"))
        _ensure_organization(ISV_ORG_ID, "ISV Org", "isv.example", accounts[PARTNER.account_id],
                             next(u for u in users if u.email == "staff@isv.example"))
    return {
        "integration_key": key.client_id,
        "client_secret": client_secret,
        "private_key_path": str(private_key_path),
        "redirect_uris": list(key.redirect_uris.order_by("pk").values_list("uri", flat=True)),
        "oauth_host": urlsplit(base_url).netloc,
        "rest_base_uri": base_url,
        "accounts": [{"account_id": a.account_id, "account_name": a.name, "base_uri": sites.base_uri(a)}
                     for a in accounts.values()],
        "users": [_user_summary(user, key) for user in users],
        # The partner account's Connect HMAC keys, as its admin would copy them into the portal (docs/docusign.md §7.4).
        "hmac_keys": partner_hmac_keys(key.partner_account),
    }


def partner_hmac_keys(account: Account) -> list[dict[str, str]]:
    """The active HMAC keys of the partner account: [{key_id, secret}], oldest first."""
    keys = account.hmac_keys.filter(active=True).order_by("created", "pk")
    return [{"key_id": k.key_id, "secret": k.secret} for k in keys]


def _write_secret_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)  # O_CREAT's mode does not apply to a file that already existed


def _ensure_client_secret(key: IntegrationKey, path: Path) -> str:
    """Keep the file's secret when it matches (or nothing is stored yet); otherwise write a new one."""
    existing = path.read_text().strip() if path.exists() else ""
    if existing:
        digest = hashlib.sha256(existing.encode()).hexdigest()
        if not key.secret_hash or hmac.compare_digest(digest, key.secret_hash):
            if key.secret_hash != digest:
                key.secret_hash = digest
                key.save(update_fields=["secret_hash"])
            return existing
    secret = secrets.token_urlsafe(32)
    _write_secret_file(path, secret.encode() + b"\n")
    key.secret_hash = hashlib.sha256(secret.encode()).hexdigest()
    key.save(update_fields=["secret_hash"])
    return secret


def _ensure_rsa_key(key: IntegrationKey, path: Path) -> None:
    """Register the public half of the key in `path`, generating a 2048-bit pair when there is none."""
    if path.exists():
        private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    else:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_secret_file(path, private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    RSAPublicKey.objects.get_or_create(integration_key=key, public_pem=public_pem)


def second_site(base_url: str) -> str:
    """The origin of the second-site accounts: the same server under its other loopback name, else the same."""
    try:
        return sites.twin_site(base_url)
    except ValueError:
        return sites.normalised(base_url)  # not on loopback: one site (docs/sandbox.md "Sites")


def _ensure_accounts(base_url: str) -> dict[str, Account]:
    accounts = {}
    for spec in (ACME, GLOBEX_HR, GLOBEX_GENERAL, INITECH, PARTNER):
        account, _ = Account.objects.get_or_create(
            account_id=spec.account_id, defaults={"account_number": spec.account_number, "name": spec.name})
        # Settings changed since (through the REST API) are kept; only missing ones are filled in.
        account.settings = {**DEFAULT_ACCOUNT_SETTINGS, **account.settings}
        # The site follows the origin the sandbox is served at now (a new port moves every account).
        account.base_uri = second_site(base_url) if spec.second_site else sites.normalised(base_url)
        account.save(update_fields=["settings", "base_uri"])
        accounts[spec.account_id] = account
    return accounts


def _ensure_hmac_keys(account: Account) -> None:
    for _ in range(2 - account.hmac_keys.count()):
        HMACKey.objects.create(account=account, secret=base64.b64encode(secrets.token_bytes(32)).decode())


def _ensure_user(spec: SeedUser, accounts: dict[str, Account], key: IntegrationKey) -> User:
    user, _ = User.objects.get_or_create(user_id=spec.user_id, defaults={"email": spec.email, "name": spec.name})
    if not check_password(PASSWORD, user.password):
        user.password = make_password(PASSWORD)
        user.save(update_fields=["password"])
    for account_spec, is_admin, is_default in spec.memberships:
        Membership.objects.update_or_create(user=user, account=accounts[account_spec.account_id],
                                            defaults={"is_admin": is_admin, "is_default": is_default})
    if spec.consented:
        grant_individual(user, key, JWT_SCOPES)
    return user


def _ensure_acme_organization(acme: Account, admin: User) -> None:
    _ensure_organization(ACME_ORG_ID, "Acme Org", "acme.example", acme, admin)


def _ensure_organization(organization_id: str, name: str, domain: str, account: Account, admin: User) -> None:
    organization, _ = Organization.objects.get_or_create(organization_id=organization_id, defaults={"name": name})
    organization.admins.add(admin)
    ClaimedDomain.objects.get_or_create(domain=domain, defaults={"organization": organization})
    if account.organization_id != organization.pk:
        account.organization = organization
        account.save(update_fields=["organization"])


def _user_summary(user: User, key: IntegrationKey) -> dict:
    memberships = list(user.memberships.select_related("account").order_by("-is_default", "account__name"))
    return {
        "user_id": user.user_id,
        "email": user.email,
        "name": user.name,
        "password": PASSWORD,
        "is_admin": any(m.is_admin for m in memberships),
        "accounts": [m.account.account_id for m in memberships],
        "consent": consent_kind(user, key),
    }
