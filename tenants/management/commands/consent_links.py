"""`manage.py consent_links SLUG`: print both consent links of a client organization with their prerequisites."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from docusign_integration.consent.system_user import consent_links
from tenants.models import ClientOrganization


class Command(BaseCommand):
    help = (
        "Print the individual and organization admin consent links of a client organization, each with what it needs. "
        "The links are portal pages: whoever opens one must be signed in to the portal (ISV staff or a client admin of "
        "that organization), because the OAuth state is bound to that browser session."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")

    def handle(self, *args: Any, slug: str, **options: Any) -> None:
        organization = ClientOrganization.objects.filter(slug=slug).first()
        if organization is None:
            raise CommandError(f"No client organization with slug {slug}.")
        write_consent_links(self.stdout, organization)


def write_consent_links(out: OutputWrapper, organization: ClientOrganization) -> None:
    base = settings.PORTAL_BASE_URL.rstrip("/")
    out.write(f"Consent links for {organization.name} (open while signed in to the portal):")
    for link in consent_links(organization):
        out.write(f"  {link['title']}: {base}{link['url']}")
        out.write(f"    {link['prerequisites']}")
