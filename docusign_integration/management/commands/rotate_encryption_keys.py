"""Re-encrypt every registered secret under the first key of PORTAL_ENCRYPTION_KEYS (security checklist TS-2)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from docusign_integration import encryption, stored_keys

BATCH_SIZE = 200


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret under the first key of PORTAL_ENCRYPTION_KEYS. To rotate: put the new key "
        "first (keep the old one after it), run this command, then `--check` until it exits 0, and only then remove "
        "the old key. `--check` lists how many secrets each key id protects and exits 1 while any secret still needs "
        "a key other than the first (or a key that is no longer configured). `--dry-run` counts without writing. While any "
        "secret records a key id that is not configured, this command, web and worker refuse to run (docusign.E009)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would be re-encrypted; change nothing.")
        parser.add_argument("--check", action="store_true", help="List secrets per key id; exit 1 unless all use the first.")

    def handle(self, *args: object, dry_run: bool = False, check: bool = False, **options: object) -> None:
        encryption.validate_keys()
        if check:
            self._check()
            return
        stored = stored_keys.stored_key_ids()
        missing = stored_keys.missing_key_ids(stored)
        if missing:
            # Refuse up front rather than stop half-way on the first secret that cannot be decrypted.
            raise CommandError(f"{stored_keys.missing_keys_message(stored, missing)} Put the old key back after the "
                               "new one (PORTAL_ENCRYPTION_KEYS=<new>,<old>) and run this command again.")
        total = 0
        for entry in encryption.registered():
            count = self._rotate(entry, dry_run=dry_run)
            total += count
            verb = "would re-encrypt" if dry_run else "re-encrypted"
            self.stdout.write(f"{entry.model._meta.label}: {verb} {count} secret(s)")
        self.stdout.write(f"{'Would re-encrypt' if dry_run else 'Re-encrypted'} {total} secret(s) under key "
                          f"{encryption.current_key_id()}.")

    def _rotate(self, entry: encryption.EncryptedFields, *, dry_run: bool) -> int:
        current = encryption.current_key_id()
        pks = list(entry.model._default_manager.order_by("pk").values_list("pk", flat=True))
        count = 0
        for start in range(0, len(pks), BATCH_SIZE):
            with transaction.atomic():
                # The lock keeps a concurrent writer (a token refresh) from being overwritten with the old value.
                rows = entry.model._default_manager.select_for_update().filter(pk__in=pks[start:start + BATCH_SIZE])
                for row in rows:
                    changed = [f for f in entry.fields if getattr(row, f) and encryption.key_id_of(getattr(row, f)) != current]
                    count += len(changed)
                    if dry_run or not changed:
                        continue
                    for field in changed:
                        setattr(row, field, encryption.reencrypt(getattr(row, field), context=entry.context_fn(row, field)))
                    row.save(update_fields=changed)
        return count

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
