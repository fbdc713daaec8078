"""`manage.py check_consent`: re-verify system users' consent with DocuSign, now, in this process."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from docusign_integration.client import errors
from docusign_integration.consent.system_user import consent_verify
from tenants.models import ConsentStatus, SystemUser
from tenants.selection import add_organization_arguments, selected_organizations


class Command(BaseCommand):
    help = (
        "Check consent for the given organizations (--org SLUG, repeatable) or all of them (--all) with a fresh JWT grant "
        "each, record the results, and print a table. Exits with status 1 when any organization is not granted or had an "
        "error. For many organizations in the background use the admin action, which fans out Celery tasks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_organization_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        organizations = selected_organizations(options)
        total = organizations.count()
        rows: list[tuple[str, str, str, str]] = []
        for done, organization in enumerate(organizations.iterator(), start=1):
            if not SystemUser.objects.filter(organization=organization).exists():
                rows.append((organization.slug, "no system user", organization.account_id or "-",
                             organization.provisioning_error or "its DocuSign user is not recorded yet"))
                continue
            try:
                system_user = consent_verify(acting_user=None, organization=organization)
                status, error = system_user.consent_status, system_user.last_error
            except errors.DocuSignError as exc:  # transient: nothing was recorded
                status, error = "error", exc.user_message
            organization.refresh_from_db(fields=["account_id"])
            rows.append((organization.slug, status, organization.account_id or "-", error))
            self.stderr.write(f"\rchecked {done}/{total}", ending="")
        if total:
            self.stderr.write("")
        self._table(rows)
        failing = sum(1 for _, status, _, error in rows if status != ConsentStatus.GRANTED or error)
        self.stdout.write(f"{total - failing} of {total} granted, {failing} need attention.")
        if failing:
            sys.exit(1)

    def _table(self, rows: list[tuple[str, str, str, str]]) -> None:
        header = ("organization", "consent", "account", "last error")
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(3)]
        for row in [header, *rows]:
            self.stdout.write("  ".join(str(v).ljust(w) for v, w in zip(row[:3], widths, strict=True)) + "  " + row[3])
