"""Envelopes sent per month by each hosted client, from the portal's own records, for billing (docs/docusign.md §10.1).

The ISV pays DocuSign for every envelope of its account; this says which client each one was for. Counted from the
portal's Envelope rows (an envelope counts in the month DocuSign sent it, `sent_at`), never by asking DocuSign: one
query for every client, whatever their number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from docusign_integration.envelopes.models.envelopes import Envelope
from tenants.models import ClientOrganization, Hosting


class Writable(Protocol):
    def write(self, text: str, /) -> object: ...


CSV_HEADER = ("month", "organization", "slug", "environment", "envelopes_sent")


@dataclass(frozen=True)
class MonthlyUsage:
    month: date  # the first day of the month (UTC)
    organization_id: int
    name: str
    slug: str
    environment: str
    envelopes_sent: int


def hosted_usage(*, first_month: date, last_month: date | None = None,
                 organizations: Iterable[int] | None = None) -> list[MonthlyUsage]:
    """Envelopes sent by hosted clients per month from `first_month` to `last_month` (inclusive), in one query.

    Months in which a client sent nothing are left out. `organizations` limits it to some clients (their pks).
    """
    envelopes = Envelope.objects.filter(organization__hosting=Hosting.HOSTED)
    if organizations is not None:
        envelopes = envelopes.filter(organization__in=list(organizations))
    return _monthly(envelopes, first_month, last_month)


def organization_usage(organization: ClientOrganization, *, first_month: date,
                       last_month: date | None = None) -> list[MonthlyUsage]:
    """One client's months, hosted or own account alike, for the API's `GET /api/v1/organization/usage` (one query).

    A hosted client's envelopes are those routed to it (its system user sent them, docs/docusign.md §10.1); an
    own-account client's are every envelope of its account the portal has recorded (sent from the portal or learned
    from Connect or the sweep): the same shape, from the same table.
    """
    return _monthly(Envelope.objects.filter(organization=organization), first_month, last_month)


def _monthly(envelopes: QuerySet[Envelope], first_month: date, last_month: date | None) -> list[MonthlyUsage]:
    last = last_month or timezone.now().date()
    start = _first_day(first_month)
    end = _next_month(_first_day(last))
    rows = (envelopes.filter(sent_at__gte=start, sent_at__lt=end).annotate(month=TruncMonth("sent_at")).values(
        "month", "organization_id", "organization__name", "organization__slug", "organization__environment")
        .annotate(sent=Count("pk")).order_by("month", "organization__name", "organization_id"))
    return [MonthlyUsage(month=row["month"].date() if isinstance(row["month"], datetime) else row["month"],
                         organization_id=row["organization_id"], name=row["organization__name"],
                         slug=row["organization__slug"], environment=row["organization__environment"],
                         envelopes_sent=row["sent"]) for row in rows]


def write_usage_csv(rows: Iterable[MonthlyUsage], stream: Writable) -> None:
    """The billing export: one line per client and month."""
    writer = csv.writer(stream)
    writer.writerow(CSV_HEADER)
    for row in rows:
        # A name starting with = + - @ would be a formula in a spreadsheet: quoted as text (CSV injection).
        name = f"'{row.name}" if row.name[:1] in ("=", "+", "-", "@") else row.name
        writer.writerow((row.month.strftime("%Y-%m"), name, row.slug, row.environment, row.envelopes_sent))


def _first_day(value: date) -> datetime:
    return datetime(value.year, value.month, 1, tzinfo=timezone.get_current_timezone())


def _next_month(value: datetime) -> datetime:
    return value.replace(year=value.year + value.month // 12, month=value.month % 12 + 1)
