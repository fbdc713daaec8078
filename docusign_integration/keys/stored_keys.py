"""Which encryption keys the stored secrets need, and refusing to start without them (docs/security.md TS-2 (c)).

Every ciphertext names its key id (`v1.<key id>.<blob>`, see `encryption`). A web or worker process whose
PORTAL_ENCRYPTION_KEYS lacks a key id that stored rows record would start and then fail on every read of those
rows, so it refuses to start instead, naming the missing key id(s) (fingerprints, not secrets).

The key ids are read with one GROUP BY query per registered encrypted column over the key-id part of the
token: no row is loaded, on SQLite and PostgreSQL alike. A database that cannot be read yet (unreachable, or
not migrated: a fresh clone) never blocks start-up, so that `migrate` and `make run` still work; it is logged.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import Count
from django.db.models.functions import Substr

from docusign_integration.keys import encryption

logger = logging.getLogger(__name__)

CHECK_ID = "docusign.E009"
# "v1." is 3 characters; the key id is the next 8 (1-based positions 4..11).
_KEY_ID_START = len(encryption.VERSION) + 2
_KEY_ID_LENGTH = 8


@dataclass(frozen=True)
class StoredKeyIds:
    """Secrets per key id over every registered encrypted column, and the registered tables not created yet."""

    counts: Counter[str] = field(default_factory=Counter)
    tables_missing: tuple[str, ...] = ()


def stored_key_ids(using: str = DEFAULT_DB_ALIAS) -> StoredKeyIds:
    """Count stored secrets per key id, one aggregate query per encrypted column; raise DatabaseError if unreadable.

    Tables that do not exist yet (a database not migrated, or not fully) hold no secrets and are listed in
    `tables_missing` instead of failing.
    """
    connection = connections[using]
    existing = set(connection.introspection.table_names())
    counts: Counter[str] = Counter()
    missing: list[str] = []
    for entry in encryption.registered():
        table = entry.model._meta.db_table
        if table not in existing:
            missing.append(table)
            continue
        for column in entry.fields:
            rows = (entry.model._default_manager.using(using)
                    .filter(**{f"{column}__startswith": f"{encryption.VERSION}."})
                    # Aliases no model has as a field (ConnectHMACKey has a `key_id`: DocuSign's).
                    .values(ciphertext_key_id=Substr(column, _KEY_ID_START, _KEY_ID_LENGTH))
                    .annotate(ciphertext_count=Count("pk"))
                    .order_by())  # no Meta.ordering: it would join the GROUP BY and split the counts
            counts.update({row["ciphertext_key_id"]: row["ciphertext_count"] for row in rows})
    return StoredKeyIds(counts, tuple(missing))


def missing_key_ids(stored: StoredKeyIds) -> list[str]:
    """Key ids that stored secrets record and PORTAL_ENCRYPTION_KEYS lacks (raises ImproperlyConfigured on bad keys)."""
    configured = set(encryption.configured_key_ids())
    return sorted(key_id for key_id in stored.counts if key_id not in configured)


MISSING_KEYS_FIX = (
    "Put the old key back after the new one (PORTAL_ENCRYPTION_KEYS=<new>,<old>), run `manage.py "
    "rotate_encryption_keys`, and remove the old key only when `manage.py rotate_encryption_keys --check` exits 0. "
    "If that key is lost for good, `manage.py rotate_encryption_keys --forget-lost-key <key id>` discards what it "
    "protected (client admins reconnect, HMAC keys are added again)."
)


def missing_keys_message(stored: StoredKeyIds, missing: list[str]) -> str:
    """The problem, naming the key ids (fingerprints: safe to show) and how many secrets each protects."""
    named = ", ".join(f"{key_id} ({stored.counts[key_id]} secret(s))" for key_id in missing)
    return (f"Stored secrets were encrypted with key id(s) {named}, which PORTAL_ENCRYPTION_KEYS does not contain "
            f"(configured: {', '.join(encryption.configured_key_ids())}).")


def validate_keys_at_start(using: str = DEFAULT_DB_ALIAS) -> None:
    """Fail closed at web and worker start: raise ImproperlyConfigured if the keys are unusable or lack a stored key id.

    A database that cannot be read is logged as a warning and does not block start-up. The connection is closed
    afterwards, so a pre-forking server (gunicorn --preload, Celery prefork) never shares it with its children.
    """
    encryption.validate_keys()
    try:
        stored = stored_key_ids(using)
    except DatabaseError as exc:
        logger.warning("Could not check which encryption keys the stored secrets need (database unreachable or not "
                       "migrated yet: %s: %s); starting anyway.", type(exc).__name__, exc)
        return
    finally:
        connections[using].close()
    if stored.tables_missing:
        logger.warning("The database is not migrated yet (%d table(s) of encrypted secrets missing): run "
                       "`manage.py migrate`.", len(stored.tables_missing))
    missing = missing_key_ids(stored)
    if missing:
        raise ImproperlyConfigured(f"{missing_keys_message(stored, missing)} {MISSING_KEYS_FIX} ({CHECK_ID})")
