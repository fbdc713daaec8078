"""`manage.py provision_client`: create a client organization and its system user, invite client admins."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from docusign_integration.client import conf
from docusign_integration.client.errors import DocuSignError
from docusign_integration.hosting.provisioning import (
    HostingUnavailable,
    failure_kept_on,
    failure_words,
    hosted_client_record,
)
from docusign_integration.hosting.tasks import hosted_system_user_run
from tenants import services
from tenants.management.commands.consent_links import write_consent_links
from tenants.models import ClientOrganization, MembershipRole, SystemUser


class Command(BaseCommand):
    help = (
        "Provision a client organization with its DocuSign system user, optionally invite client admins, and print both "
        "consent links. The links are the portal's consent start pages, not raw DocuSign URLs: the OAuth state must be "
        "bound to the browser session that returns from DocuSign (one use, ten minutes), so it is issued when someone "
        "signed in to the portal (ISV staff or a client admin of the organization) opens the link. Nothing is stored "
        "when any input is invalid. With --hosted the client is hosted in the ISV account (setup_isv_account): the portal "
        "creates its system user there (or finds it again by email; running it again for a hosted client retries) and no "
        "system user options are given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--environment", required=True, choices=[c for c, _ in conf.ENVIRONMENT_CHOICES])
        parser.add_argument("--hosted", action="store_true",
                            help="Host the client in the ISV account; the portal creates its system user there.")
        parser.add_argument("--system-user-id", help="The system user's DocuSign user id (GUID); not with --hosted.")
        parser.add_argument("--system-user-email", help="Not with --hosted.")
        parser.add_argument("--account-id", help="A dedicated DocuSign account id (GUID); default: the user's default account.")
        parser.add_argument("--slug")
        parser.add_argument("--invite", nargs="*", default=[], metavar="EMAIL", help="Invite these people as client admins.")

    def handle(self, *args: Any, **options: Any) -> None:
        system_user = (options["system_user_id"], options["system_user_email"], options["account_id"])
        if options["hosted"] and any(system_user):
            raise CommandError("--hosted: the portal creates the system user in the ISV account; give no --system-user-id, "
                               "--system-user-email or --account-id.")
        if not options["hosted"] and not all(system_user[:2]):
            raise CommandError("--system-user-id and --system-user-email are required (or --hosted).")
        try:
            # One transaction: a bad invitation address leaves no half-provisioned organization behind. A hosted
            # client is recorded with local checks only; its DocuSign user is made after the commit (no lock held
            # while DocuSign answers).
            with transaction.atomic():
                organization = hosted_client_record(
                    acting_user=None, name=options["name"], environment=options["environment"], slug=options["slug"],
                ) if options["hosted"] else services.organization_provision(
                    acting_user=None, name=options["name"], environment=options["environment"],
                    system_user_id=options["system_user_id"], system_user_email=options["system_user_email"],
                    account_id=options["account_id"], slug=options["slug"],
                )
                for email in options["invite"]:
                    services.invitation_send(acting_user=None, organization=organization, email=email, role=MembershipRole.ADMIN)
        except ValidationError as exc:
            raise CommandError("; ".join(f"{field}: {' '.join(m)}" for field, m in exc.message_dict.items())) from exc
        hosted_user = self._hosted_system_user(organization) if options["hosted"] else None

        self.stdout.write(f"Provisioned {organization.name} (slug {organization.slug}, {organization.environment}).")
        if hosted_user is not None:
            self.stdout.write(f"Its system user in the ISV account: {hosted_user.email} ({hosted_user.user_id}).")
        for email in options["invite"]:
            self.stdout.write(f"Invitation sent to {email}.")
        write_consent_links(self.stdout, organization)

    def _hosted_system_user(self, organization: ClientOrganization) -> SystemUser:
        """The background task's work, run here once so staff see the outcome (a failure stays on the organization)."""
        try:
            with failure_kept_on(organization):
                hosted_system_user_run(acting_user=None, organization=organization)
        except (DocuSignError, HostingUnavailable) as exc:
            words = failure_words(exc)
            raise CommandError(f"DocuSign: {words} {organization.name} is recorded (slug {organization.slug}) and its "
                               "page in the admin says so: run this command again (or Provision again in the admin) "
                               "to retry.") from exc
        return SystemUser.objects.get(organization=organization)
