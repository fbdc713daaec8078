"""`manage.py invite_client_admin SLUG EMAIL ...`: invite people to a client organization's onboarding pages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from tenants import services
from tenants.models import ClientOrganization, MembershipRole


class Command(BaseCommand):
    help = ("Email each address a signed, single-use invitation that expires; the invitee sets a portal password and "
            "joins the organization as a client admin (or --role member). Nothing is sent when any address is invalid.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("emails", nargs="+", metavar="EMAIL")
        parser.add_argument("--role", choices=MembershipRole.values, default=MembershipRole.ADMIN)

    def handle(self, *args: Any, slug: str, emails: list[str], role: str, **options: Any) -> None:
        organization = ClientOrganization.objects.filter(slug=slug).first()
        if organization is None:
            raise CommandError(f"No client organization with slug {slug}.")
        try:
            with transaction.atomic():  # emails go out on commit, so a bad address sends none of them
                for email in emails:
                    services.invitation_send(acting_user=None, organization=organization, email=email, role=role)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Invited {len(emails)} {'person' if len(emails) == 1 else 'people'} to {organization.name}.")
