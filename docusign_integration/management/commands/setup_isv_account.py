"""`manage.py setup_isv_account`: record the ISV's own DocuSign account and create or correct the hosted clients' profile."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from docusign_integration.client import conf, errors
from docusign_integration.hosting.provisioning import isv_admin, permission_profile_ensure
from tenants.isv import isv_account_record


class Command(BaseCommand):
    help = (
        "Record the ISV account of an environment (once; run again to change the pattern or the administrator) and "
        "create the permission profile of hosted system users in it, or correct it when someone widened it in DocuSign "
        "(API access and sending only; no account-wide access, not an administrator). The portal acts as the "
        "administrator system user --admin-user-id with a JWT grant: it must be an administrator of the account and "
        "have consented (the ISV's organization admin consent covers it)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--environment", required=True, choices=[c for c, _ in conf.ENVIRONMENT_CHOICES])
        parser.add_argument("--account-id", required=True, help="The ISV account's id (GUID).")
        parser.add_argument("--base-uri", required=True, help="The ISV account's base_uri, as userinfo gives it.")
        parser.add_argument("--admin-user-id", required=True, help="The administrator system user's DocuSign user id.")
        parser.add_argument("--email-pattern", help="Hosted system users' email, e.g. docusign+{slug}@isv.example.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            isv_account = isv_account_record(
                acting_user=None, environment=options["environment"], account_id=options["account_id"],
                base_uri=options["base_uri"], admin_user_id=options["admin_user_id"],
                system_user_email_pattern=options["email_pattern"])
            profile_id = permission_profile_ensure(acting_user=None, admin=isv_admin(isv_account.environment))
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except errors.DocuSignError as exc:
            raise CommandError(f"DocuSign: {exc.user_message}") from exc
        self.stdout.write(f"{isv_account}: hosted system users get permission profile {profile_id} "
                          f"({isv_account.permission_profile_name}); emails {isv_account.system_user_email_pattern}.")
