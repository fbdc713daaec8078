"""`manage.py webhook_endpoints add|list|rotate|enable|disable|show-secret`: client organizations' webhook endpoints."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from outbound_events import secrets, services
from outbound_events.models import EVENT_TYPES, WebhookEndpoint
from tenants.models import ClientOrganization


class Command(BaseCommand):
    help = ("Manage the endpoints that receive a client organization's events. `add` and `rotate` print the signing "
            "secret once, on this terminal only (give it to the ISV's developers); `show-secret` prints it again.")

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        add = commands.add_parser("add", help="add an endpoint (https on a public host)")
        add.add_argument("organization", metavar="SLUG")
        add.add_argument("url")
        add.add_argument("--event", action="append", default=[], choices=EVENT_TYPES, help="repeat; none: every event")
        add.add_argument("--max-in-flight", type=int, default=4)
        listing = commands.add_parser("list", help="list endpoints (secrets masked)")
        listing.add_argument("--organization", metavar="SLUG")
        rotate = commands.add_parser("rotate", help="a new secret; the old one keeps signing during the overlap")
        rotate.add_argument("endpoint", metavar="ENDPOINT_ID")
        rotate.add_argument("--overlap-hours", type=float, default=24.0)
        for name in ("enable", "disable", "show-secret"):
            commands.add_parser(name).add_argument("endpoint", metavar="ENDPOINT_ID")

    def handle(self, *args: object, action: str, **options: object) -> None:
        getattr(self, "_" + action.replace("-", "_"))(**options)

    def _endpoint(self, value: object) -> WebhookEndpoint:
        try:
            return WebhookEndpoint.objects.select_related("organization").get(pk=uuid.UUID(str(value)))
        except (ValueError, WebhookEndpoint.DoesNotExist):
            raise CommandError(f"No webhook endpoint has the id {value!r} (see `webhook_endpoints list`).") from None

    def _add(self, *, organization: str, url: str, event: list[str], max_in_flight: int, **_: object) -> None:
        owner = ClientOrganization.objects.filter(slug=organization).first()
        if owner is None:
            raise CommandError(f"No client organization has the slug {organization!r}.")
        try:
            endpoint, secret = services.endpoint_create(acting_user=None, organization=owner, url=url, event_types=event,
                                                        max_in_flight=max_in_flight)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"Added endpoint {endpoint.pk} for {owner.slug}.\nSigning secret (Standard Webhooks): {secret}")

    def _list(self, *, organization: str | None, **_: object) -> None:
        endpoints = WebhookEndpoint.objects.select_related("organization").order_by("organization__slug", "created")
        if organization:
            endpoints = endpoints.filter(organization__slug=organization)
        for e in endpoints:
            state = "enabled" if e.enabled else f"disabled ({e.disabled_reason or 'by staff'})"
            self.stdout.write(f"{e.pk}  {e.organization.slug:<20} {secrets.masked(e):<8} {state:<10} "
                              f"{','.join(e.event_types) or 'all events'}  {e.display_url}")

    def _rotate(self, *, endpoint: str, overlap_hours: float, **_: object) -> None:
        secret = services.endpoint_rotate_secret(acting_user=None, endpoint=self._endpoint(endpoint),
                                                 overlap=timedelta(hours=overlap_hours))
        self.stdout.write(f"New signing secret: {secret}\nThe previous one keeps signing for {overlap_hours:g} hours.")

    def _enable(self, *, endpoint: str, **_: object) -> None:
        try:
            services.endpoint_update(acting_user=None, endpoint=self._endpoint(endpoint), enabled=True)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write("Enabled; its pending deliveries go out at the next sweep.")

    def _disable(self, *, endpoint: str, **_: object) -> None:
        services.endpoint_update(acting_user=None, endpoint=self._endpoint(endpoint), enabled=False)
        self.stdout.write("Disabled; its events are kept and can be replayed.")

    def _show_secret(self, *, endpoint: str, **_: object) -> None:
        for secret in secrets.signing_secrets(self._endpoint(endpoint)):
            self.stdout.write(secret)
