"""`manage.py setup_docusign_account`: push the setup profile to client accounts now, in this process, or show the diff."""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from docusign_integration.client import errors
from docusign_integration.setup.account_setup import SetupDiff, account_setup_diff, account_setup_push
from tenants.selection import add_organization_arguments, selected_organizations


class Command(BaseCommand):
    help = (
        "Set up the DocuSign accounts of the given organizations (--org SLUG, repeatable) or of all organizations with an "
        "account (--all): create or update the portal's Connect configuration (never a second one) and push the account "
        "settings that differ, as the system user, who must be a DocuSign administrator of the account. --dry-run only "
        "prints what would change, writing nothing in DocuSign or the portal. Exits with status 1 when any failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_organization_arguments(parser)
        parser.add_argument("--dry-run", action="store_true", help="Print the differences; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        organizations = selected_organizations(options)
        if options["all"]:
            organizations = organizations.filter(account_id__isnull=False)  # nothing to set up before an account is chosen
        total, outcomes = organizations.count(), Counter[str]()
        for done, organization in enumerate(organizations.iterator(), start=1):
            try:
                if options["dry_run"]:
                    diff = account_setup_diff(organization=organization)
                    outcome, line = diff.status.label.lower(), _plan(diff)
                else:
                    account_setup_push(acting_user=None, organization=organization)
                    outcome = line = "set up"
            except errors.DocuSignError as exc:
                outcome, line = "failed", f"FAILED: {exc.user_message}"
            outcomes[outcome] += 1
            self.stdout.write(f"{organization.slug}: {line}")
            self.stderr.write(f"\r{done}/{total}", ending="")
        if total:
            self.stderr.write("")
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        self.stdout.write(f"{total} organization(s){': ' + summary if summary else ''}.")
        if outcomes["failed"]:
            sys.exit(1)


def _plan(diff: SetupDiff) -> str:
    """One line saying what a push would do."""
    if diff.missing:
        actions = ["would create the Connect configuration"]
    elif diff.configuration_drift:
        actions = [f"would update the Connect configuration ({', '.join(diff.configuration_drift)})"]
    else:
        actions = []
    if diff.settings_changes:
        actions.append("would set " + ", ".join(f"{name}={value}" for name, value in sorted(diff.settings_changes.items())))
    return "; ".join([diff.status.label.lower(), *actions]) if actions else "in sync; nothing to do"
