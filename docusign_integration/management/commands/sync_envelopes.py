"""Run the envelope status sweep now, for some organizations or all of them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from docusign_integration.client import errors
from docusign_integration.envelopes import sync as envelope_sync
from docusign_integration.envelopes.tasks import syncable_organizations
from tenants.selection import add_organization_arguments, selected_organizations


class Command(BaseCommand):
    help = ("Read each organization's envelope status changes from DocuSign since its watermark (GET /envelopes?from_date=) "
            "and apply them. Never asks about a single envelope. An account waiting for a rate-limit reset is skipped.")

    def add_arguments(self, parser: CommandParser) -> None:
        add_organization_arguments(parser, all_help="every organization whose system user has granted consent")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["all"]:
            organizations = list(syncable_organizations().order_by("slug"))
        else:
            organizations = list(selected_organizations(options))
        calls = changes = failed = 0
        for number, organization in enumerate(organizations, start=1):
            try:
                result = envelope_sync.envelopes_sweep(organization)
            except errors.DocuSignError as exc:
                failed += 1
                self.stderr.write(f"[{number}/{len(organizations)}] {organization.slug}: {exc.user_message}")
                continue
            calls, changes = calls + result.calls, changes + result.changes
            self.stdout.write(f"[{number}/{len(organizations)}] {organization.slug}: {result.envelopes} envelopes read, "
                              f"{result.changes} changed, {result.calls} calls")
        self.stdout.write(f"Swept {len(organizations) - failed} of {len(organizations)} organizations: "
                          f"{changes} status changes, {calls} DocuSign calls, {failed} failed.")
