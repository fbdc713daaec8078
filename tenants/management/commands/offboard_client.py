"""`manage.py offboard_client SLUG [SLUG ...] --reason TEXT [--dry-run]`: offboard clients that left (docs/security.md TS-6)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from docusign_integration.hosting.provisioning import hosted_client_offboard
from tenants import services
from tenants.selection import selected_organizations


class Command(BaseCommand):
    help = (
        "Offboard client organizations: delete their client admins' DocuSign connections, their system user's cached "
        "tokens and OAuth sign-ins in progress, retire their account Connect HMAC keys, revoke pending invitations and "
        "remove their members; queued and scheduled tasks then make no DocuSign call for them. "
        + services.OFFBOARDING_RETENTION
        + " Every slug must exist or nothing is done; an organization offboarded already is left unchanged. "
        "--dry-run prints what would be deleted and changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="+", metavar="SLUG")
        parser.add_argument("--reason", required=True, help="Why the clients leave; kept in the audit history.")
        parser.add_argument("--dry-run", action="store_true", help="Print what would be deleted; change nothing.")

    def handle(self, *args: Any, slugs: list[str], reason: str, dry_run: bool, **options: Any) -> None:
        if not reason.strip():
            raise CommandError("--reason: say why the clients leave (it is kept in the audit history).")
        organizations = services.offboarding_preview(selected_organizations({"org": slugs}, include_offboarded=True))
        offboarded = 0
        for organization in organizations:
            if organization.offboarded_at is not None:
                self.stdout.write(f"{organization.slug}: offboarded already on {organization.offboarded_at:%Y-%m-%d}; "
                                  "unchanged.")
                continue
            self.stdout.write(
                f"{organization.slug}: {'would delete' if dry_run else 'deleting'} {organization.to_disconnect} "
                f"connection(s), {organization.to_forget} cached token(s), {organization.to_cancel} sign-in(s) in "
                f"progress; retire {organization.to_retire} account HMAC key(s); revoke {organization.to_revoke} "
                f"invitation(s); remove {organization.to_remove} member(s)")
            if dry_run:
                continue
            try:
                # A hosted client's system user in the ISV account is closed by a task after the commit.
                offboarded += hosted_client_offboard(acting_user=None, organization=organization, reason=reason)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        total = len(organizations)
        if dry_run:
            self.stdout.write(f"Dry run: nothing changed ({total} organization(s) selected).")
        else:
            self.stdout.write(f"Offboarded {offboarded} of {total} organization(s).")
