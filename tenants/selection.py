"""Choosing client organizations on a command line: `--org SLUG ...` or `--all`, the same in every command."""

from __future__ import annotations

from django.core.management.base import CommandError, CommandParser
from django.db.models import QuerySet

from .active import active_only
from .models import ClientOrganization


def add_organization_arguments(parser: CommandParser, *, all_help: str = "every client organization") -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--org", action="extend", nargs="+", metavar="SLUG", help="organizations by slug (repeatable)")
    which.add_argument("--all", action="store_true", help=all_help)


def selected_organizations(options: dict, *, include_offboarded: bool = False) -> QuerySet[ClientOrganization]:
    """The organizations `--org` names (every slug must exist), or all of them for `--all`, ordered by slug.

    Offboarded organizations are left out of `--all` and refused by name: nothing calls DocuSign for a client that
    left (docs/security.md TS-6), unless the command is about offboarding itself (`include_offboarded`).
    """
    organizations = ClientOrganization.objects.order_by("slug")
    slugs = options.get("org") or []
    if not slugs:
        return organizations if include_offboarded else active_only(organizations)
    organizations = organizations.filter(slug__in=slugs)
    found = dict(organizations.values_list("slug", "offboarded_at"))
    missing = sorted(set(slugs) - set(found))
    if missing:
        raise CommandError(f"No client organization with slug {', '.join(missing)}.")
    offboarded = sorted(slug for slug, offboarded_at in found.items() if offboarded_at is not None)
    if offboarded and not include_offboarded:
        raise CommandError(f"{', '.join(offboarded)} left (offboarded): the portal no longer acts for it. "
                           "Reactivate it in the admin first if it is coming back.")
    return organizations
