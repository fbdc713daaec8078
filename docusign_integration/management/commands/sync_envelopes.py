"""Run the envelope status sweep now, for some organizations or all of them."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from docusign_integration import envelope_sync, errors
from docusign_integration.tasks_envelopes import syncable_organizations
from tenants.models import ClientOrganization


class Command(BaseCommand):
    help = ("Read each organization's envelope status changes from DocuSign since its watermark (GET /envelopes?from_date=) "
            "and apply them. Never asks about a single envelope. An account waiting for a rate-limit reset is skipped.")

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--org", nargs="+", metavar="SLUG", help="organizations by slug")
        which.add_argument("--all", action="store_true", help="every organization whose system user has granted consent")

    def handle(self, *args, org: list[str] | None, all: bool, **options) -> None:  # noqa: A002 (the option's name)
        if all:
            organizations = list(syncable_organizations().order_by("slug"))
        else:
            organizations = list(ClientOrganization.objects.filter(slug__in=org).order_by("slug"))
            missing = set(org) - {o.slug for o in organizations}
            if missing:
                raise CommandError(f"No such organization: {', '.join(sorted(missing))}")
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
