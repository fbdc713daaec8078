"""Running the DocuSign sandbox for a test: served over loopback HTTP, seeded, the portal pointed at it."""

from __future__ import annotations

import contextlib
import gc
import tempfile
import threading
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

    def site(self, account_id: str) -> str:
        """The seeded account's `base_uri`: the seed puts accounts on two origins (docs/sandbox.md "Sites")."""
        return next(a["base_uri"] for a in self.seed["accounts"] if a["account_id"] == account_id)


@contextlib.contextmanager
def serving_sandbox(**server_options: object) -> Iterator[object]:
    """The sandbox's server thread on a free loopback port, stopped cleanly afterwards.

    In-memory SQLite is per connection, so the server's threads share the test's connection; it stops being
    shared only after the server's request threads have ended.
    """
    from docusign_sandbox import connect_delivery
    from docusign_sandbox.server import SandboxServerThread

    override = {c.alias: c for c in connections.all() if c.vendor == "sqlite" and c.is_in_memory_db()}
    for conn in override.values():
        conn.inc_thread_sharing()
    thread = SandboxServerThread(connections_override=override, **server_options).start_and_wait()
    try:
        yield thread
    finally:
        connect_delivery.flush(10)
        thread.stop()
        _join_request_threads()
        for conn in override.values():
            conn.dec_thread_sharing()


def _join_request_threads() -> None:
    """Let the server's request threads finish before the connection stops being shared.

    A request thread lives while its client keeps the connection open; collecting the tests' dropped
    responses closes those sockets, and the threads then end.
    """
    gc.collect()
    for thread in threading.enumerate():
        if thread.name.endswith("(process_request_thread)"):
            thread.join(2)


@contextlib.contextmanager
def running_sandbox(settings) -> Iterator[SandboxInfo]:
    from docusign_integration.client import conf
    from docusign_sandbox.seed import seed

    with serving_sandbox() as thread, tempfile.TemporaryDirectory(prefix="sandbox-") as tmp:
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
            conf.reset_caches()
