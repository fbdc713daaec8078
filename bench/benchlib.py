"""What the in-process benchmarks share: Django on a throwaway SQLite file, and the sandbox seeded on loopback."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(tmp: Path) -> None:
    """Configure Django with the test settings on a fresh SQLite file in `tmp`, migrated."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def start_sandbox(tmp: Path) -> tuple[object, dict]:
    """The sandbox on a free loopback port, seeded, with the portal's settings pointed at it: (thread, seed data)."""
    from django.conf import settings

    from docusign_integration.client import conf
    from docusign_sandbox import server
    from docusign_sandbox.seed import seed

    thread = server.SandboxServerThread().start_and_wait()
    settings.DOCUSIGN_SANDBOX_URL = thread.url
    settings.DOCUSIGN_PRIVATE_KEY, settings.DOCUSIGN_PRIVATE_KEY_FILE = "", str(tmp / "private_key.pem")
    settings.DOCUSIGN_CLIENT_SECRET, settings.DOCUSIGN_CLIENT_SECRET_FILE = "", str(tmp / "client_secret.txt")
    conf.reset_caches()
    data = seed(integration_key=settings.DOCUSIGN_INTEGRATION_KEY, private_key_path=tmp / "private_key.pem",
                client_secret_path=tmp / "client_secret.txt", redirect_uris=[settings.DOCUSIGN_REDIRECT_URI],
                base_url=thread.url)
    return thread, data
