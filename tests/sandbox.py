"""Running the DocuSign sandbox for a test: served over loopback HTTP, seeded, the portal pointed at it."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db import connections


@dataclass
class SandboxInfo:
    url: str  # http://127.0.0.1:PORT, the account server and the REST base_uri alike
    seed: dict  # what `manage.py sandbox_seed --json` prints
    thread: object

    def user(self, email_prefix: str) -> dict:
        """The seeded user whose email starts with `email_prefix`."""
        return next(u for u in self.seed["users"] if u["email"].startswith(email_prefix))


@contextlib.contextmanager
def running_sandbox(settings) -> Iterator[SandboxInfo]:
    from docusign_sandbox.seed import seed

    from docusign_integration import conf
    from docusign_sandbox.server import SandboxServerThread

    # In-memory SQLite is per connection: the server thread must share the test's connection.
    override = {c.alias: c for c in connections.all() if c.vendor == "sqlite" and c.is_in_memory_db()}
    for conn in override.values():
        conn.inc_thread_sharing()
    thread = SandboxServerThread(connections_override=override).start_and_wait()
    with tempfile.TemporaryDirectory(prefix="sandbox-") as tmp:
        settings.DOCUSIGN_SANDBOX_URL = thread.url
        settings.DOCUSIGN_ENVIRONMENTS = ["sandbox"]
        settings.DOCUSIGN_PRIVATE_KEY = ""
        settings.DOCUSIGN_PRIVATE_KEY_FILE = str(Path(tmp) / "private_key.pem")
        settings.DOCUSIGN_CLIENT_SECRET = ""
        settings.DOCUSIGN_CLIENT_SECRET_FILE = str(Path(tmp) / "client_secret.txt")
        conf.reset_caches()
        data = seed(
            integration_key=settings.DOCUSIGN_INTEGRATION_KEY,
            private_key_path=Path(settings.DOCUSIGN_PRIVATE_KEY_FILE),
            client_secret_path=Path(settings.DOCUSIGN_CLIENT_SECRET_FILE),
            redirect_uris=[settings.DOCUSIGN_REDIRECT_URI],
            base_url=thread.url,
        )
        try:
            yield SandboxInfo(url=thread.url, seed=data, thread=thread)
        finally:
            thread.stop()
            conf.reset_caches()
            for conn in override.values():
                conn.dec_thread_sharing()
