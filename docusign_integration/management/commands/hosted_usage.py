"""`manage.py hosted_usage --from YYYY-MM [--to YYYY-MM]`: the billing CSV of envelopes sent per hosted client per month."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from docusign_integration.hosting.usage import hosted_usage, write_usage_csv


def _month(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise CommandError(f"{value!r} is not a month: write YYYY-MM, e.g. 2026-12.") from None


class Command(BaseCommand):
    help = ("Print, as CSV for billing, the envelopes each hosted client sent per month (from the portal's own records; "
            "no DocuSign call): month, organization, slug, environment, envelopes_sent. Months without envelopes are "
            "left out.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="first", required=True, help="The first month, YYYY-MM.")
        parser.add_argument("--to", dest="last", help="The last month, YYYY-MM (default: this month).")

    def handle(self, *args: Any, **options: Any) -> None:
        first = _month(options["first"])
        last = _month(options["last"]) if options["last"] else None
        if last is not None and last < first:
            raise CommandError("--to is before --from.")
        write_usage_csv(hosted_usage(first_month=first, last_month=last), self.stdout)
