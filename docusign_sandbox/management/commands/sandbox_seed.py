"""`manage.py sandbox_seed [--json] [--base-url URL]`: create the sandbox's integration key, accounts and users."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from docusign_sandbox.seed import seed


class Command(BaseCommand):
    help = (
        "Create (or complete; it is idempotent) the DocuSign sandbox's integration key DOCUSIGN_INTEGRATION_KEY, "
        "its client secret (written to DOCUSIGN_CLIENT_SECRET_FILE, mode 0600, only its sha256 stored), its RSA "
        "key pair (DOCUSIGN_PRIVATE_KEY_FILE, generated when missing), the redirect URI DOCUSIGN_REDIRECT_URI, "
        "and fixed test accounts and users. --json prints the result, client secret included, for scripts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", dest="as_json", action="store_true",
                            help="print the seed as JSON (includes the client secret)")
        parser.add_argument("--base-url", default=None,
                            help="the sandbox's origin (default: settings.DOCUSIGN_SANDBOX_URL)")

    def handle(self, *args: Any, as_json: bool = False, base_url: str | None = None, **options: Any) -> None:
        if not settings.DOCUSIGN_PRIVATE_KEY_FILE or not settings.DOCUSIGN_CLIENT_SECRET_FILE:
            raise CommandError("Set DOCUSIGN_PRIVATE_KEY_FILE and DOCUSIGN_CLIENT_SECRET_FILE: the seed writes the "
                               "sandbox's private key and client secret there.")
        data = seed(
            integration_key=settings.DOCUSIGN_INTEGRATION_KEY,
            private_key_path=Path(settings.DOCUSIGN_PRIVATE_KEY_FILE),
            client_secret_path=Path(settings.DOCUSIGN_CLIENT_SECRET_FILE),
            redirect_uris=[settings.DOCUSIGN_REDIRECT_URI],
            base_url=(base_url or settings.DOCUSIGN_SANDBOX_URL).rstrip("/"),
        )
        if as_json:
            self.stdout.write(json.dumps(data, indent=2))
            return
        self.stdout.write(f"DocuSign sandbox at {data['rest_base_uri']} (JWT aud: {data['oauth_host']})")
        self.stdout.write(f"Integration key {data['integration_key']}")
        self.stdout.write(f"  RSA private key: {data['private_key_path']}")
        self.stdout.write(f"  client secret:   {settings.DOCUSIGN_CLIENT_SECRET_FILE}")
        self.stdout.write(f"  redirect URIs:   {', '.join(data['redirect_uris'])}")
        self.stdout.write("Users (sign in at /login):")
        for user in data["users"]:
            role = "admin" if user["is_admin"] else "member"
            self.stdout.write(f"  {user['email']:<26} password {user['password']}  {role:<6}  consent: {user['consent']}")
        self.stdout.write("Accounts, each at its own site (base_uri):")
        for account in data["accounts"]:
            self.stdout.write(f"  {account['account_name']:<22} {account['base_uri']}")
        self.stdout.write(self.style.SUCCESS("Sandbox seeded."))

