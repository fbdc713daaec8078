"""Choosing client organizations on a command line: `--org SLUG ...` or `--all`, the same in every command."""

from __future__ import annotations

from django.core.management.base import CommandError, CommandParser
from django.db.models import QuerySet

from .models import ClientOrganization


def add_organization_arguments(parser: CommandParser, *, all_help: str = "every client organization") -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--org", action="extend", nargs="+", metavar="SLUG", help="organizations by slug (repeatable)")
    which.add_argument("--all", action="store_true", help=all_help)


def selected_organizations(options: dict) -> QuerySet[ClientOrganization]:
    """The organizations `--org` names (every slug must exist), or all of them for `--all`, ordered by slug."""
    organizations = ClientOrganization.objects.order_by("slug")
    slugs = options.get("org") or []
    if not slugs:
        return organizations
    organizations = organizations.filter(slug__in=slugs)
    missing = sorted(set(slugs) - set(organizations.values_list("slug", flat=True)))
    if missing:
        raise CommandError(f"No client organization with slug {', '.join(missing)}.")
    return organizations
