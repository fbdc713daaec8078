"""Verifying a Connect message's HMAC signatures (docs/docusign.md §7.4; docs/security.md WH-1..WH-3).

Each `X-DocuSign-Signature-N` header is base64(HMAC-SHA256(secret, raw body)). A message is genuine when any
header matches any active key allowed for the account it claims to come from: the ISV's partner keys
(`integratorManaged` configurations) and that account's own keys. There is no "no key, no check" branch: an
account without a usable key gets every message refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from docusign_integration.client.conf import served_environments
from docusign_integration.connect.models import ConnectHMACKey, HMACKeyScope
from docusign_integration.keys.encryption import DecryptionError
from tenants import audit
from tenants.models import ClientOrganization

logger = logging.getLogger(__name__)

# DocuSign sends one header per active key; reading at most this many bounds the work a forged request can cause.
MAX_SIGNATURE_HEADERS = 10
SIGNATURE_HEADER = "X-DocuSign-Signature-{}"
DEFAULT_KEY_CACHE_SECONDS = 10.0
KEY_CACHE_ENTRIES = 10_000
_key_cache: dict[str, tuple[float, int | None, list[tuple[ConnectHMACKey, str]]]] = {}


@dataclass(frozen=True)
class Verified:
    """The key that verified a message, and the client organization of the account it named (None if unknown)."""

    key: ConnectHMACKey
    organization: ClientOrganization | None

    @property
    def environment(self) -> str:
        return self.organization.environment if self.organization is not None else self.key.environment


def signature(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, body)), as Connect sends it."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def signatures_from(headers: Mapping[str, str]) -> list[str]:
    """The values of X-DocuSign-Signature-1 .. -MAX_SIGNATURE_HEADERS present in `headers`."""
    values = (headers.get(SIGNATURE_HEADER.format(n)) for n in range(1, MAX_SIGNATURE_HEADERS + 1))
    return [value for value in values if value]


def organization_for_account(account_id: str) -> ClientOrganization | None:
    """The client organization with this DocuSign account, among the environments this portal serves.

    Only its pk, environment and offboarded_at are loaded (the rest is deferred; offboarded_at lets Connect quarantine
    an offboarded client's messages without another query): this runs for every Connect delivery, and written
    with the ORM's query builder it took a third of the listener's CPU (bench/webhooks.py). The account id is
    matched exactly, in lower case as GUIDField stores it, so the index answers. For the ISV account, which hosts many
    clients, this is one hosted client: `hosting` tells the caller to route by the message instead
    (connect.hosted_routing).
    """
    environments = served_environments()
    if not environments:  # `IN ()` is not SQL; a portal serving no environment has no organization to find
        return None
    table = ClientOrganization._meta.db_table
    sql = (f"SELECT id, environment, hosting, offboarded_at FROM {table} WHERE account_id = %s "  # noqa: S608 - only placeholders are variable
           f"AND environment IN ({', '.join(['%s'] * len(environments))}) ORDER BY id LIMIT 1")
    return next(iter(ClientOrganization.objects.raw(sql, [account_id.lower(), *environments])), None)


def allowed_keys(organization: ClientOrganization | None) -> list[ConnectHMACKey]:
    """Active keys that may sign for `organization`'s account: partner keys of its environment plus its own keys.

    For an account no organization has, only partner keys (of any served environment) can vouch for it.
    """
    keys = ConnectHMACKey.objects.filter(active=True)
    if organization is None:
        keys = keys.filter(scope=HMACKeyScope.PARTNER, environment__in=served_environments())
    else:
        keys = keys.filter(Q(scope=HMACKeyScope.PARTNER, environment=organization.environment)
                           | Q(scope=HMACKeyScope.ACCOUNT, organization=organization))
    return list(keys.order_by("created", "pk"))


@sensitive_variables("keys", "cached")
def _account_keys(account_id: str) -> tuple[ClientOrganization | None, list[tuple[ConnectHMACKey, str]], bool]:
    """The account's organization, its allowed keys with their secrets, and whether those were remembered.

    Decrypting every key for every delivery would be most of the listener's cost, so the keys are remembered for a
    few seconds per process; the organization is read fresh each time (one indexed query), so a message is never
    filed under an organization that no longer has the account. A key added here takes effect at once in this
    process and within DOCUSIGN_CONNECT_KEY_CACHE_SECONDS in the others; a retired key stops verifying at once
    everywhere, since `verify` re-checks a remembered key that matched.
    """
    ttl = float(getattr(settings, "DOCUSIGN_CONNECT_KEY_CACHE_SECONDS", DEFAULT_KEY_CACHE_SECONDS))
    now = time.monotonic()
    organization = organization_for_account(account_id)
    organization_pk = organization.pk if organization is not None else None
    cached = _key_cache.get(account_id.lower())
    if cached is not None and cached[0] > now and cached[1] == organization_pk:
        return organization, cached[2], True
    keys = []
    for key in allowed_keys(organization):
        try:
            keys.append((key, key.get_secret()))
        except DecryptionError:  # one unreadable key must not block the others; staff see it in the admin
            logger.error("Connect HMAC key %s cannot be decrypted (encryption key missing or value altered)", key.pk)
    if ttl > 0:
        if len(_key_cache) >= KEY_CACHE_ENTRIES:
            _key_cache.clear()  # unknown accounts cannot grow it without bound
        _key_cache[account_id.lower()] = (now + ttl, organization_pk, keys)
    return organization, keys, False


def _still_active(key: ConnectHMACKey) -> bool:
    """Whether `key` is still active: the only thing about a key that changes (its scope, environment and
    organization are fixed once stored), so a remembered key needs no other check. Raw SQL on the primary key, like
    `organization_for_account`: the ORM's query building would cost more than the query (bench/webhooks.py)."""
    table = ConnectHMACKey._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s AND active",  # noqa: S608 - only placeholders are variable
                       [ConnectHMACKey._meta.pk.get_db_prep_value(key.pk, connection)])
        return cursor.fetchone() is not None


def forget_cached_keys() -> None:
    """Drop this process's remembered keys (after a key or an organization's account changes)."""
    _key_cache.clear()


@sensitive_variables("keys", "secret", "expected")
def verify(account_id: str, body: bytes, signatures: list[str]) -> Verified | None:
    """The key (and organization) that vouches for `body` from `account_id`, or None: refuse the message."""
    if not signatures:
        return None
    organization, keys, remembered = _account_keys(account_id)
    # Header values are compared as bytes: compare_digest refuses non-ASCII str, and a forger controls the header.
    presented = [value.encode("utf-8", "surrogateescape") for value in signatures]
    for key, secret in keys:
        expected = signature(secret, body).encode("ascii")
        # Every header is compared, so timing does not reveal which one (or whether an earlier one) matched.
        if not sum(hmac.compare_digest(expected, value) for value in presented):
            continue
        # Another process may have retired a remembered key since: one look at the key that matched, nothing else.
        if remembered and not _still_active(key):
            _key_cache.pop(account_id.lower(), None)
            continue
        return Verified(key=key, organization=organization)
    return None


@sensitive_variables("secret")
@transaction.atomic
def connect_hmac_key_add(*, acting_user: User | None, environment: str, label: str, secret: str,
                         organization: ClientOrganization | None = None, key_id: str = "") -> ConnectHMACKey:
    """Store a Connect HMAC secret: a partner key, or an account key when `organization` is given. Audited, never the secret."""
    secret = secret.strip()
    if len(secret) < 16:
        raise ValueError("An HMAC secret from DocuSign is at least 16 characters; check it was copied whole.")
    scope = HMACKeyScope.ACCOUNT if organization is not None else HMACKeyScope.PARTNER
    key = ConnectHMACKey(environment=environment, scope=scope, organization=organization, label=label[:100],
                         key_id=key_id[:36])
    key.set_secret(secret)
    key.full_clean(exclude=["secret_ciphertext"])
    key.save()
    transaction.on_commit(forget_cached_keys)
    audit.record(actor=acting_user, action="connect_hmac_key.added", organization=organization,
                 after=audit.snapshot(key, ["label", "scope", "environment", "key_id"]), target=key)
    return key


@transaction.atomic
def connect_hmac_key_retire(*, acting_user: User | None, key: ConnectHMACKey) -> bool:
    """Stop a key verifying anything (after DocuSign stopped signing with it); False if it was already retired."""
    retired = ConnectHMACKey.objects.filter(pk=key.pk, active=True).update(active=False, retired_at=timezone.now())
    if retired:
        transaction.on_commit(forget_cached_keys)
        key.refresh_from_db()
        audit.record(actor=acting_user, action="connect_hmac_key.retired", organization=key.organization,
                     before={"active": True}, after={"active": False}, target=key)
    return bool(retired)


@transaction.atomic
def connect_hmac_key_discard_lost_key(*, acting_user: User | None, key: ConnectHMACKey, key_id: str) -> None:
    """The encryption key `key_id` under this HMAC secret is lost: retire the key and empty its unreadable secret.

    The row stays for the record (label, scope, environment, DocuSign's key id), as for any retired key; staff add
    the secret again from DocuSign's Connect Keys tab (`connect_hmac_key add`).
    """
    connect_hmac_key_retire(acting_user=acting_user, key=key)
    # The column is NOT NULL but may be empty (no form edits it); decrypting "" fails closed like any bad value.
    ConnectHMACKey.objects.filter(pk=key.pk).update(secret_ciphertext="")
    key.refresh_from_db()
    audit.record(actor=acting_user, action="connect_hmac_key.discarded_lost_key", organization=key.organization,
                 target=key, after={**audit.snapshot(key, ["label", "scope", "environment", "key_id", "active"]),
                                    "encryption_key_id": key_id})
