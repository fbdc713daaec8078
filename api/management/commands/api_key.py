"""`manage.py api_key create SLUG --name NAME [--expires-days N]` (the key alone on the last line, shown once) and
`manage.py api_key revoke PREFIX`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tenants.models import ClientOrganization

from ...keys import api_key_create, api_key_revoke
from ...models import OrganizationAPIKey


class Command(BaseCommand):
    help = "Create or revoke a client organization's API key."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create a key; it is printed once, alone on the last line.")
        create.add_argument("slug")
        create.add_argument("--name", required=True)
        create.add_argument("--expires-days", type=int, default=None)
        revoke = actions.add_parser("revoke", help="Revoke the key with this prefix (it cannot be undone).")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "create":
            self._create(options)
        else:
            self._revoke(options["prefix"])

    def _create(self, options: dict[str, Any]) -> None:
        organization = ClientOrganization.objects.filter(slug=options["slug"]).first()
        if organization is None:
            raise CommandError(f"No client organization {options['slug']!r}.")
        days = options["expires_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-days must be at least 1.")
        expiry = timezone.now() + timedelta(days=days) if days else None
        try:
            api_key, key = api_key_create(acting_user=None, organization=organization, name=options["name"],
                                          expiry_date=expiry)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"API key {api_key.prefix} ({api_key.name}) of {organization.slug}"
                          + (f", expires {expiry:%Y-%m-%d %H:%M} UTC" if expiry else "")
                          + ". It is shown only now; store it as a secret:")
        self.stdout.write(key)

    def _revoke(self, prefix: str) -> None:
        api_key = OrganizationAPIKey.objects.select_related("organization").filter(prefix=prefix).first()
        if api_key is None:
            raise CommandError(f"No API key with prefix {prefix!r}.")
        if api_key_revoke(acting_user=None, api_key=api_key):
            self.stdout.write(f"Revoked API key {prefix} of {api_key.organization.slug}.")
        else:
            self.stdout.write(f"API key {prefix} was already revoked.")
