"""`manage.py connect_hmac_key add|list|retire`: the Connect HMAC keys the listener accepts (docs/docusign.md §7.4)."""

from __future__ import annotations

import getpass
import sys
import uuid

from django.core.management.base import BaseCommand, CommandError, CommandParser

from docusign_integration.client.conf import ENVIRONMENT_CHOICES
from docusign_integration.connect.hmac import connect_hmac_key_add, connect_hmac_key_retire
from docusign_integration.keys.encryption import masked
from docusign_integration.models import ConnectHMACKey
from tenants.models import ClientOrganization


class Command(BaseCommand):
    help = (
        "Manage Connect HMAC keys. `add` reads the secret from standard input (or prompts without echo), never from "
        "the command line, where it would land in shell history and the process list; without --organization it is a "
        "partner key (integratorManaged: signs every client's messages). `list` shows keys by their last 4 characters. "
        "`retire KEY_ID` stops a key verifying anything; retire the old key only after DocuSign signs with the new one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        add = commands.add_parser("add", help="store a new key; the secret comes from stdin")
        add.add_argument("--label", required=True)
        add.add_argument("--environment", default="sandbox", choices=[name for name, _ in ENVIRONMENT_CHOICES])
        add.add_argument("--organization", metavar="SLUG", help="an account key of this client organization")
        add.add_argument("--key-id", default="", help="the key's id on DocuSign's Connect Keys tab")
        commands.add_parser("list", help="list keys (secrets masked)")
        retire = commands.add_parser("retire", help="retire a key by its portal id (from `list`)")
        retire.add_argument("key", metavar="KEY_ID")

    def handle(self, *args: object, action: str, **options: object) -> None:
        getattr(self, f"_{action}")(**options)

    def _add(self, *, label: str, environment: str, organization: str | None, key_id: str, **_: object) -> None:
        owner = None
        if organization:
            owner = ClientOrganization.objects.filter(slug=organization).first()
            if owner is None:
                raise CommandError(f"No client organization has the slug {organization!r}.")
        secret = sys.stdin.readline().strip() if not sys.stdin.isatty() else getpass.getpass("HMAC secret: ")
        try:
            key = connect_hmac_key_add(acting_user=None, environment=environment, label=label, secret=secret,
                                       organization=owner, key_id=key_id)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Added {key.get_scope_display().lower()} key {key.pk} ({label}).")

    def _list(self, **_: object) -> None:
        keys = ConnectHMACKey.objects.select_related("organization").order_by("environment", "scope", "created")
        for key in keys:
            hint = masked(key.secret_ciphertext, key.get_secret)
            owner = key.organization.slug if key.organization else "partner"
            state = "active" if key.active else f"retired {key.retired_at:%Y-%m-%d}"
            self.stdout.write(f"{key.pk}  {key.environment:<10} {owner:<20} {hint:<6} {state:<18} {key.label}")
        self.stdout.write(f"{len(keys)} key(s).")

    def _retire(self, *, key: str, **_: object) -> None:
        found = ConnectHMACKey.objects.filter(pk=key).first() if _is_uuid(key) else None
        if found is None:
            raise CommandError(f"No Connect HMAC key has the id {key!r} (see `connect_hmac_key list`).")
        retired = connect_hmac_key_retire(acting_user=None, key=found)
        self.stdout.write(f"Retired key {found.pk}." if retired else f"Key {found.pk} was already retired.")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
