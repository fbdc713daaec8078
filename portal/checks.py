"""Start-up checks: misconfiguration fails with an id and a sentence that says how to fix it."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
import stat
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from docusign_integration.client import conf
from docusign_integration.keys import stored_keys

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@register(Tags.security, deploy=False)
def check_docusign_settings(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
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
        key = conf.configured_private_key()
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
        if not conf.configured_client_secret():
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
def check_production_profile(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    if conf.SANDBOX in settings.DOCUSIGN_ENVIRONMENTS and not settings.DEBUG:
        return [Warning(
            "The offline DocuSign sandbox is enabled in a production profile.",
            hint="Set DOCUSIGN_ENVIRONMENTS=demo or production.",
            id="docusign.W001",
        )]
    return []


@register(Tags.database)
def check_stored_encryption_key_ids(app_configs: Sequence[AppConfig] | None, databases: Sequence[str] | None = None,
                                    **kwargs: Any) -> list[CheckMessage]:
    """docusign.E009: stored secrets name a key id PORTAL_ENCRYPTION_KEYS lacks (docs/security.md TS-2); web and worker refuse.

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


@register(Tags.security)
def check_private_key_file_mode(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """docusign.W002: the RSA private key file that signs every JWT assertion is readable by group or others.

    Anyone who can read it can act as every client organization's system user. (Settings read the file into
    DOCUSIGN_PRIVATE_KEY too, so a configured file is what decides.)
    """
    path = settings.DOCUSIGN_PRIVATE_KEY_FILE
    if not path:
        return []
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)  # follows symlinks, as Kubernetes secret volumes use them
    except OSError:
        return []  # a missing or unreadable key is docusign.E003's business
    if not mode & 0o077:
        return []
    return [Warning(
        f"The DocuSign RSA private key file {path} has mode {mode:04o}: users other than its owner can read it.",
        hint=f"Run `chmod 400 {path}` (or 600), owned by the user the portal and its worker run as; in Kubernetes "
        "set the secret volume's defaultMode to 0400.",
        id="docusign.W002",
    )]


# Schemes with no network listener behind them: nothing to authenticate to.
LOCAL_TRANSPORTS = frozenset({"", "memory", "filesystem", "unix", "redis+socket", "sqlite", "file"})


def _unauthenticated_remote_host(url: str) -> str | None:
    """The host of `url` when it is reached over the network without a password, else None."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme in LOCAL_TRANSPORTS or not host or parts.password or _is_loopback(host):
        return None
    return host


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.startswith("/"):  # a path is a Unix socket (PostgreSQL's HOST)
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@register(Tags.security, deploy=True)
def check_service_credentials(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """docusign.W003: the broker, Redis or PostgreSQL is on another machine and the portal logs in without a password.

    Redis and the broker carry task ids and locks, PostgreSQL every encrypted token: on a network they must require
    a password (docs/security.md DP-4). The message names the setting and host, never the URL (which may hold a secret).
    """
    remote: list[tuple[str, str]] = []
    # kombu takes a ;-separated list of failover broker URLs.
    for name, value in (("CELERY_BROKER_URL", settings.CELERY_BROKER_URL), ("REDIS_URL", settings.REDIS_URL)):
        remote += [(name, host) for url in (value or "").split(";") if (host := _unauthenticated_remote_host(url.strip()))]
    database = settings.DATABASES["default"]
    host = database.get("HOST") or ""
    # libpq also finds a password in a passfile or service file, or logs in with a client certificate.
    other_credentials = {"passfile", "service", "sslcert"} & set(database.get("OPTIONS") or {})
    if "sqlite" not in database["ENGINE"] and host and not _is_loopback(host) and not database.get("PASSWORD") \
            and not other_credentials:
        remote.append(("DATABASE_URL", host))
    return [Warning(
        f"{name} points at {host}, another machine, without a password.",
        hint="Keep Redis and PostgreSQL on a private network and require a password: Redis `requirepass` or an ACL user "
        "(redis://:PASSWORD@host:6379/0, or rediss:// for TLS), a PostgreSQL role password "
        "(postgres://user:PASSWORD@host:5432/portal).",
        id="docusign.W003",
    ) for name, host in remote]


@register(Tags.compatibility)
def check_broker_visibility_timeout(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """A task waiting out a rate limit holds its message unacknowledged (acks_late) for up to DEFER_MAX seconds; on
    Redis a message unacknowledged for longer than the visibility timeout is delivered again, to a second worker."""
    from background.task_retry import DEFER_MAX

    timeout = (getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}).get("visibility_timeout")
    if not str(settings.CELERY_BROKER_URL).startswith(("redis://", "rediss://")) or timeout is None:
        return []
    longest = DEFER_MAX + 300  # the countdown, plus time spent queued before a worker picks the message up
    if timeout > longest:
        return []
    return [Error(
        f"CELERY_VISIBILITY_TIMEOUT is {timeout} s, but a task waiting for DocuSign's rate limit to reset holds its "
        f"message for up to {longest:.0f} s: Redis would deliver it again to another worker.",
        hint=f"Set CELERY_VISIBILITY_TIMEOUT above {longest:.0f} (the default, 3600, is).",
        id="docusign.E010",
    )]
