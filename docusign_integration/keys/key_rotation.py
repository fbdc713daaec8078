"""The write behind `rotate_encryption_keys`: re-encrypting stored secrets under the current key (docs/security.md TS-2).

The values do not change, only the key under them; one audit row per batch says how many secrets of which model moved
to which key (never the values).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction

from docusign_integration.keys import encryption
from tenants import audit


def secrets_reencrypt(*, acting_user: User | None, entry: encryption.EncryptedFields, pks: Sequence[object],
                      dry_run: bool = False) -> int:
    """Re-encrypt the secrets of rows `pks` of `entry.model` not yet under the current key; return how many.

    With `dry_run`, count them and change nothing.
    """
    current = encryption.current_key_id()
    count = 0
    with transaction.atomic():
        # The lock keeps a concurrent writer (a token refresh) from being overwritten with the old value.
        for row in entry.model._default_manager.select_for_update().filter(pk__in=pks):
            changed = [f for f in entry.fields if getattr(row, f) and encryption.key_id_of(getattr(row, f)) != current]
            count += len(changed)
            if dry_run or not changed:
                continue
            for field in changed:
                setattr(row, field, encryption.reencrypt(getattr(row, field), context=entry.context_fn(row, field)))
            row.save(update_fields=changed)
        if count and not dry_run:
            audit.record(actor=acting_user, action="encryption.reencrypt", organization=None,
                         target=entry.model._meta.label, after={"secrets": count, "key_id": current})
    return count
