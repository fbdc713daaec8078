"""Re-encrypt every registered secret under the first key of PORTAL_ENCRYPTION_KEYS (docs/security.md TS-2).

`--forget-lost-key KEYID` is the way out when a key is truly lost: the secrets under it can never be read again, so
each model's registered `discard` makes its rows stop recording it (see `encryption.register`).
"""

from __future__ import annotations

import re
from functools import reduce
from operator import or_

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Q

from docusign_integration.keys import encryption, key_rotation, stored_keys

BATCH_SIZE = 200
KEY_ID = re.compile(r"[0-9a-f]{8}")  # the first 8 hex digits of sha256(key): encryption._key_id


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret under the first key of PORTAL_ENCRYPTION_KEYS. To rotate: put the new key "
        "first (keep the old one after it), run this command, then `--check` until it exits 0, and only then remove "
        "the old key. `--check` lists how many secrets each key id protects and exits 1 while any secret still needs "
        "a key other than the first (or a key that is no longer configured). `--dry-run` counts without writing. While any "
        "secret records a key id that is not configured, this command, web and worker refuse to run (docusign.E009). "
        "Only if that key is truly lost (no copy anywhere): `--forget-lost-key KEYID` lists what losing it means per "
        "model and, with `--yes`, acts: cached JWT tokens and OAuth sign-ins in progress are deleted, client admins' "
        "DocuSign connections become 'needs reconnecting' (they connect again), Connect HMAC keys are retired and "
        "emptied (staff add them again from DocuSign); audited. It refuses a configured or malformed key id."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would be re-encrypted; change nothing.")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--check", action="store_true", help="List secrets per key id; exit 1 unless all use the first.")
        mode.add_argument("--forget-lost-key", metavar="KEYID",
                          help="Give up the secrets under this lost key id (8 hex digits, as E009 names it).")
        parser.add_argument("--yes", action="store_true", help="With --forget-lost-key: act, not only list.")

    def handle(self, *args: object, dry_run: bool = False, check: bool = False, forget_lost_key: str | None = None,
               yes: bool = False, **options: object) -> None:
        encryption.validate_keys()
        if check:
            self._check()
            return
        if forget_lost_key is not None:
            self._forget(forget_lost_key, yes=yes, dry_run=dry_run)
            return
        if yes:
            raise CommandError("--yes only goes with --forget-lost-key.")
        stored = stored_keys.stored_key_ids()
        missing = stored_keys.missing_key_ids(stored)
        if missing:
            # Refuse up front rather than stop half-way on the first secret that cannot be decrypted.
            raise CommandError(f"{stored_keys.missing_keys_message(stored, missing)} Put the old key back after the "
                               "new one (PORTAL_ENCRYPTION_KEYS=<new>,<old>) and run this command again. Only if a key "
                               "is truly lost: --forget-lost-key KEYID.")
        total = 0
        for entry in encryption.registered():
            count = self._rotate(entry, dry_run=dry_run)
            total += count
            verb = "would re-encrypt" if dry_run else "re-encrypted"
            self.stdout.write(f"{entry.model._meta.label}: {verb} {count} secret(s)")
        self.stdout.write(f"{'Would re-encrypt' if dry_run else 'Re-encrypted'} {total} secret(s) under key "
                          f"{encryption.current_key_id()}.")

    def _rotate(self, entry: encryption.EncryptedFields, *, dry_run: bool) -> int:
        pks = list(entry.model._default_manager.order_by("pk").values_list("pk", flat=True))
        return sum(key_rotation.secrets_reencrypt(acting_user=None, entry=entry, pks=pks[start:start + BATCH_SIZE],
                                                  dry_run=dry_run)
                   for start in range(0, len(pks), BATCH_SIZE))

    def _check(self) -> None:
        configured = encryption.configured_key_ids()
        # One aggregate query per encrypted column (the same one web and worker run at start): no row is loaded.
        counts = stored_keys.stored_key_ids().counts
        for key_id in sorted(counts, key=lambda k: (k not in configured, configured.index(k) if k in configured else 0)):
            if key_id == configured[0]:
                label = "current key"
            elif key_id in configured:
                label = "older key, still configured: run rotate_encryption_keys before removing it"
            else:
                label = "NOT CONFIGURED: these secrets cannot be decrypted"
            self.stdout.write(f"{key_id}: {counts[key_id]} secret(s) ({label})")
        stale = sum(n for key_id, n in counts.items() if key_id != configured[0])
        if stale:
            raise CommandError(f"{stale} secret(s) still need a key other than {configured[0]}.", returncode=1)
        self.stdout.write(f"All {sum(counts.values())} secret(s) use the current key {configured[0]}.")

    def _forget(self, key_id: str, *, yes: bool, dry_run: bool) -> None:
        key_id = key_id.strip().lower()
        if not KEY_ID.fullmatch(key_id):
            raise CommandError(f"{key_id!r} is not a key id: 8 hexadecimal digits, as docusign.E009 and --check name it.")
        if key_id in encryption.configured_key_ids():
            raise CommandError(f"Key {key_id} is configured in PORTAL_ENCRYPTION_KEYS, so it is not lost: its secrets "
                               "can be read. Rotate them with `rotate_encryption_keys` instead.")
        # Rows, not secrets: a row with any secret under the lost key cannot be used whole.
        queries = [(entry, entry.model._default_manager.filter(
                    reduce(or_, (Q(**{f"{field}__startswith": f"{encryption.VERSION}.{key_id}."}) for field in entry.fields))))
                for entry in encryption.registered()]
        plan = [(entry, rows, rows.count()) for entry, rows in queries]
        for entry, _, count in plan:
            effect = (entry.discard.__doc__ or "").strip().splitlines()[0] if entry.discard else "NO DISCARD RULE"
            self.stdout.write(f"{entry.model._meta.label}: {count} row(s) under key {key_id}"
                              + (f": {effect}" if count else "."))
        if unhandled := [entry.model._meta.label for entry, _, count in plan if count and entry.discard is None]:
            raise CommandError(f"No discard rule is registered for {', '.join(unhandled)} (encryption.register): "
                               "nothing was changed.")
        if not any(count for _, _, count in plan):
            self.stdout.write(f"No stored secret records key {key_id}: nothing to forget.")
            return
        if dry_run or not yes:
            self.stdout.write(f"Nothing was changed. These secrets can never be read without key {key_id}; if no copy "
                              "of it exists anywhere, run again with --yes (and without --dry-run) to act.")
            return
        with transaction.atomic():  # all or nothing: a half-forgotten key would still stop web and worker
            # Every entry with rows has a discard rule (checked above).
            handled = {entry.model._meta.object_name: discard(rows, key_id) for entry, rows, count in plan
                       if count and (discard := entry.discard) is not None}
        self.stdout.write(f"Forgot key {key_id}: {sum(handled.values())} row(s) ("
                          + ", ".join(f"{name} {n}" for name, n in handled.items())
                          + "). `rotate_encryption_keys --check` shows what the keys protect now.")
