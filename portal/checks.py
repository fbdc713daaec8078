"""Start-up checks: misconfiguration fails with an id and a sentence that says how to fix it."""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from docusign_integration import conf, stored_keys

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@register(Tags.security, deploy=False)
def check_docusign_settings(app_configs, **kwargs) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    envs = settings.DOCUSIGN_ENVIRONMENTS
    unknown = [e for e in envs if e not in (conf.SANDBOX, conf.DEMO, conf.PRODUCTION)]
    if not envs or unknown:
        messages.append(Error(
            f"DOCUSIGN_ENVIRONMENTS must list one or more of sandbox, demo, production (got {envs!r}).",
            hint="Set DOCUSIGN_ENVIRONMENTS=sandbox for the offline sandbox, or demo / production.",
            id="docusign.E001",
        ))
    if not GUID.match(settings.DOCUSIGN_INTEGRATION_KEY or ""):
        messages.append(Error(
            "DOCUSIGN_INTEGRATION_KEY is not a GUID.",
            hint="Copy the integration key from DocuSign's Apps and Keys page.",
            id="docusign.E002",
        ))
    real = [e for e in envs if e in (conf.DEMO, conf.PRODUCTION)]
    if real:
        key = conf._read(settings.DOCUSIGN_PRIVATE_KEY, settings.DOCUSIGN_PRIVATE_KEY_FILE)
        if not key:
            messages.append(Error(
                "The DocuSign RSA private key is not configured or its file cannot be read.",
                hint="Set DOCUSIGN_PRIVATE_KEY_FILE to the PEM file of a key pair registered on the integration key "
                "(`manage.py docusign_keypair PATH` makes one).",
                id="docusign.E003",
            ))
        elif "PRIVATE KEY-----" not in key:
            messages.append(Error(
                "The DocuSign RSA private key is not a PEM private key.",
                hint="The file must start with -----BEGIN RSA PRIVATE KEY----- or -----BEGIN PRIVATE KEY-----.",
                id="docusign.E004",
            ))
        if not conf._read(settings.DOCUSIGN_CLIENT_SECRET, settings.DOCUSIGN_CLIENT_SECRET_FILE):
            messages.append(Error(
                "DOCUSIGN_CLIENT_SECRET is not configured.",
                hint="Add a secret key on the integration key's page and set DOCUSIGN_CLIENT_SECRET_FILE.",
                id="docusign.E005",
            ))
    redirect = urlsplit(settings.DOCUSIGN_REDIRECT_URI)
    local = redirect.hostname in ("127.0.0.1", "localhost", "::1")
    if not redirect.netloc or redirect.scheme not in ("https", "http") or (redirect.scheme == "http" and not local):
        messages.append(Error(
            "DOCUSIGN_REDIRECT_URI must be an absolute https:// URL (http:// only on localhost).",
            hint="Use the exact redirect URI registered on the integration key, e.g. https://portal.example.com/docusign/callback/.",
            id="docusign.E006",
        ))
    messages.extend(_check_encryption_keys())
    return messages


def _check_encryption_keys() -> list[CheckMessage]:
    keys = settings.PORTAL_ENCRYPTION_KEYS
    if not keys:
        return [Error(
            "PORTAL_ENCRYPTION_KEYS is empty: secrets cannot be stored encrypted.",
            hint="Generate one with `python -c \"import os,base64;print(base64.urlsafe_b64encode(os.urandom(32)).decode())\"`.",
            id="docusign.E007",
        )]
    messages: list[CheckMessage] = []
    for index, key in enumerate(keys, start=1):
        try:
            raw = base64.urlsafe_b64decode(key.encode() + b"=" * (-len(key) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            messages.append(Error(
                f"Key {index} of PORTAL_ENCRYPTION_KEYS is not a base64url-encoded 32-byte key.",
                hint="Each key must decode to exactly 32 random bytes (AES-256-GCM).",
                id="docusign.E008",
            ))
    return messages


@register(Tags.security, deploy=True)
def check_production_profile(app_configs, **kwargs) -> list[CheckMessage]:
    if conf.SANDBOX in settings.DOCUSIGN_ENVIRONMENTS and not settings.DEBUG:
        return [Warning(
            "The offline DocuSign sandbox is enabled in a production profile.",
            hint="Set DOCUSIGN_ENVIRONMENTS=demo or production.",
            id="docusign.W001",
        )]
    return []


@register(Tags.database)
def check_stored_encryption_key_ids(app_configs, databases=None, **kwargs) -> list[CheckMessage]:
    """docusign.E009: stored secrets name a key id PORTAL_ENCRYPTION_KEYS lacks (TS-2 (c)); web and worker refuse too.

    Runs only when databases are checked (`check --database default`, `migrate`). A database that cannot be read
    yet is not this check's business: `migrate` must still run on a fresh or unmigrated database.
    """
    messages: list[CheckMessage] = []
    for alias in databases or ():
        try:
            stored = stored_keys.stored_key_ids(alias)
            missing = stored_keys.missing_key_ids(stored)
        except (DatabaseError, ImproperlyConfigured):
            continue  # unreadable database, or unusable keys (docusign.E007/E008 report those)
        if missing:
            messages.append(Error(
                stored_keys.missing_keys_message(stored, missing),
                hint=stored_keys.MISSING_KEYS_FIX,
                id=stored_keys.CHECK_ID,
            ))
    return messages
