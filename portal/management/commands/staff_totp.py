"""`manage.py staff_totp EMAIL [--replace]`: enrol a TOTP authenticator for an ISV staff user."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal import staff_otp


class Command(BaseCommand):
    help = ("Enrol a TOTP authenticator app for an ISV staff user (two-factor sign-in to the admin) and print its "
            "otpauth:// URI once, to scan or paste into the app. The secret is shown only on this terminal, never "
            "logged. A user has one device: --replace removes the old one first (a lost phone). Audited.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="the staff user's email address")
        parser.add_argument("--replace", action="store_true", help="remove the user's existing TOTP device first")

    def handle(self, *args: Any, email: str, replace: bool, **options: Any) -> None:
        users = list(get_user_model().objects.filter(email__iexact=email.strip())[:2])
        if not users:
            raise CommandError(f"No user has the email address {email}.")
        if len(users) > 1:
            raise CommandError(f"Several users have the email address {email}: give each staff user their own address.")
        try:
            device = staff_otp.staff_totp_enrol(acting_user=None, user=users[0], replace=replace)
        except staff_otp.EnrolmentRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"TOTP device enrolled for {users[0].get_username()}. Add it to the authenticator app now; "
                          "this URI is not shown again:")
        self.stdout.write(device.config_url)
