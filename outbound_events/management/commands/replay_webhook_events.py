"""`manage.py replay_webhook_events`: deliver events again, one (--event) or a time range (--from/--to)."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from outbound_events import services
from outbound_events.models import OutboundEvent, WebhookEndpoint


def _when(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise CommandError(f"{value!r} is not an ISO 8601 date-time with a time zone (e.g. 2026-12-06T10:00:00Z).")
    return parsed


class Command(BaseCommand):
    help = ("Deliver events again with their original webhook-id, in order per envelope: one event (--event ID, "
            "repeatable) or every event in [--from, --to), optionally of one organization or to one endpoint.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--event", action="append", default=[], metavar="EVENT_ID")
        parser.add_argument("--from", dest="start", metavar="DATETIME")
        parser.add_argument("--to", dest="end", metavar="DATETIME")
        parser.add_argument("--organization", metavar="SLUG")
        parser.add_argument("--endpoint", metavar="ENDPOINT_ID")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: object, event: list[str], start: str | None, end: str | None, organization: str | None,
               endpoint: str | None, dry_run: bool, **_: object) -> None:
        if bool(event) == bool(start or end):
            raise CommandError("Give either --event ID ... or a time range --from DATETIME [--to DATETIME].")
        events = OutboundEvent.objects.all()
        if event:
            try:
                events = events.filter(pk__in=[uuid.UUID(value) for value in event])
            except ValueError:
                raise CommandError("An --event is not an event id (a UUID, as the admin shows it).") from None
        if start:
            events = events.filter(occurred_at__gte=_when(start))
        if end:
            events = events.filter(occurred_at__lt=_when(end))
        if organization:
            events = events.filter(organization__slug=organization)
        target = None
        if endpoint:
            try:
                target = WebhookEndpoint.objects.get(pk=uuid.UUID(endpoint))
            except (ValueError, WebhookEndpoint.DoesNotExist):
                raise CommandError(f"No webhook endpoint has the id {endpoint!r}.") from None
        if dry_run:
            self.stdout.write(f"Would replay {events.count()} event(s). Nothing was changed.")
            return
        queued = services.events_replay(acting_user=None, events=events, endpoint=target)
        self.stdout.write(f"Queued {queued} deliveries of {events.count()} event(s) again.")
