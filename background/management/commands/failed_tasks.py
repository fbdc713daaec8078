"""List the dead letters (tasks that failed for good), and retry or resolve them by id."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from background import dead_letters
from background.models import FailedTask


class Command(BaseCommand):
    help = ("List unresolved dead letters: background tasks that failed for good (retries spent, or a permanent "
            "DocuSign error). --retry ID queues the task again with its stored ids and marks the row resolved; "
            "--resolve ID only marks it resolved. Both write an audit event; --dry-run shows what would happen.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--retry", nargs="+", type=int, default=[], metavar="ID", help="queue these again")
        parser.add_argument("--resolve", nargs="+", type=int, default=[], metavar="ID", help="mark these resolved")
        parser.add_argument("--dry-run", action="store_true", help="say what would be done, change nothing")

    def handle(self, *args: Any, retry: list[int], resolve: list[int], dry_run: bool, **options: Any) -> None:
        if set(retry) & set(resolve):
            raise CommandError("An id cannot be both retried and resolved.")
        if not retry and not resolve:
            self._list()
            return
        rows = FailedTask.objects.in_bulk([*retry, *resolve])
        missing = sorted((set(retry) | set(resolve)) - set(rows))
        if missing:
            raise CommandError(f"No dead letter with id {', '.join(map(str, missing))}.")
        done = {"retried": 0, "resolved": 0, "skipped": 0}
        for pk in [*retry, *resolve]:
            row, action = rows[pk], "retried" if pk in retry else "resolved"
            if row.resolved:
                self.stdout.write(f"{pk}: already {row.resolution or 'resolved'}, skipped")
                done["skipped"] += 1
                continue
            if dry_run:
                self.stdout.write(f"{pk}: would be {action} ({row.task_name})")
                continue
            try:
                if action == "retried":
                    dead_letters.failed_task_retry(acting_user=None, failed_task=row)
                else:
                    dead_letters.failed_task_resolve(acting_user=None, failed_task=row)
            except dead_letters.CannotRetry as exc:
                self.stderr.write(f"{pk}: {exc}")
                done["skipped"] += 1
                continue
            done[action] += 1
            self.stdout.write(f"{pk}: {action} ({row.task_name})")
        prefix = "Dry run, nothing changed: " if dry_run else ""
        self.stdout.write(f"{prefix}{done['retried']} retried, {done['resolved']} resolved, {done['skipped']} skipped.")

    def _list(self) -> None:
        rows = list(dead_letters.unresolved())
        for row in rows:
            arguments = json.dumps(row.args) + (f" {json.dumps(row.kwargs)}" if row.kwargs else "")
            self.stdout.write(f"{row.pk}  {row.last_failed_at:%Y-%m-%d %H:%M}  {row.task_name}{arguments}  "
                              f"{row.exception_class.rsplit('.', 1)[-1]}{f' {row.error_code}' if row.error_code else ''}"
                              f"  x{row.failure_count}  {row.message}")
        self.stdout.write(f"{len(rows)} unresolved dead letter(s).")
