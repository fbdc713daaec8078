"""`manage.py seed_demo`: the demo's staff user, idempotently. Prints how to sign in."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

USERNAME = "staff"


class Command(BaseCommand):
    help = "Create the demo staff user (once) and print its sign-in; later runs keep the stored password."

    def handle(self, *args, **options) -> None:
        password_file = settings.VAR_DIR / "demo_staff_password.txt"
        User = get_user_model()
        user = User.objects.filter(username=USERNAME).first()
        if user is None or not password_file.exists():
            password = secrets.token_urlsafe(12)
            user = user or User(username=USERNAME, email="staff@isv.example")
            user.is_staff = user.is_superuser = True
            user.set_password(password)
            user.save()
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password)
            password_file.chmod(0o600)
        password = password_file.read_text().strip()
        self.stdout.write(f"Staff sign-in: username {USERNAME!r}, password {password!r} (stored in {password_file})")
