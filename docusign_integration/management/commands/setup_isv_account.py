"""`manage.py setup_isv_account`: record the ISV's own DocuSign account, create or correct the hosted clients' profile,
and push the portal's Connect configuration and account settings to it (`--dry-run`: only show how it differs)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from docusign_integration.client import conf, errors
from docusign_integration.hosting.isv_setup import isv_account_setup_diff, isv_account_setup_push
from docusign_integration.hosting.provisioning import isv_admin, permission_profile_ensure
from docusign_integration.setup.account_setup import SetupDiff
from tenants.isv import isv_account_record

RECORDING = ("account_id", "base_uri", "admin_user_id")


class Command(BaseCommand):
    help = (
        "Record the ISV account of an environment (once; run again to change the pattern or the administrator), "
        "create the permission profile of hosted system users in it, or correct it when someone widened it in DocuSign "
        "(API access and sending only; no account-wide access, not an administrator), and push the portal's Connect "
        "configuration (with the envelope custom fields hosted routing reads) and account settings to it. Run twice, "
        "the second run writes nothing. The portal acts as the administrator system user --admin-user-id with a JWT "
        "grant: it must be an administrator of the account and have consented (the ISV's organization admin consent "
        "covers it). --dry-run records and writes nothing: it shows how the recorded ISV account differs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--environment", required=True, choices=[c for c, _ in conf.ENVIRONMENT_CHOICES])
        parser.add_argument("--account-id", help="The ISV account's id (GUID).")
        parser.add_argument("--base-uri", help="The ISV account's base_uri, as userinfo gives it.")
        parser.add_argument("--admin-user-id", help="The administrator system user's DocuSign user id.")
        parser.add_argument("--email-pattern", help="Hosted system users' email, e.g. docusign+{slug}@isv.example.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Show how the recorded ISV account differs from the setup; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["dry_run"]:
                self.stdout.write(describe(isv_account_setup_diff(options["environment"]), dry_run=True))
                return
            if missing := [f"--{name.replace('_', '-')}" for name in RECORDING if not options[name]]:
                raise CommandError(f"Give {', '.join(missing)} (or --dry-run to only compare).")
            isv_account = isv_account_record(
                acting_user=None, environment=options["environment"], account_id=options["account_id"],
                base_uri=options["base_uri"], admin_user_id=options["admin_user_id"],
                system_user_email_pattern=options["email_pattern"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except errors.DocuSignError as exc:
            raise CommandError(f"DocuSign: {exc.user_message}") from exc
        try:
            profile_id = permission_profile_ensure(acting_user=None, admin=isv_admin(isv_account.environment))
            found = isv_account_setup_push(acting_user=None, environment=isv_account.environment)
        except errors.DocuSignError as exc:  # the account stays recorded: say so, and that running again finishes it
            raise CommandError(f"{isv_account} is recorded, but DocuSign refused to set it up: {exc.user_message} "
                               "Run this command again once that is done.") from exc
        self.stdout.write(f"{isv_account}: hosted system users get permission profile {profile_id} "
                          f"({isv_account.permission_profile_name}); emails {isv_account.system_user_email_pattern}.")
        self.stdout.write(describe(found, dry_run=False))


def describe(diff: SetupDiff, *, dry_run: bool) -> str:
    """One line: what the account's setup was found to be, and (not a dry run) what was done about it."""
    if diff.missing:
        found = "no Connect configuration of the portal's" + (f"; settings differ: {', '.join(diff.drift)}"
                                                             if diff.drift else "")
    elif diff.drift:
        found = f"drifted: {', '.join(diff.drift)}"
    else:
        found = "in sync"
    if dry_run:
        return f"Connect configuration and settings ({diff.administrator}): {found}. Nothing was changed (--dry-run)."
    done = "nothing to push" if diff.status == "in_sync" else "pushed; now in sync"
    return f"Connect configuration and settings: {found}; {done}."
