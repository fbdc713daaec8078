"""Fixtures for the sandbox's Connect, rate-limit and fault tests: an unseeded sandbox and a Connect listener.

`bare_sandbox` serves the sandbox over loopback HTTP with an empty world that each test builds with the ORM
(`sandbox_member`), and `connect_listener` is a small HTTP server that records what Connect POSTs to it.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from docusign_sandbox import auth
from docusign_sandbox.models import Account, IntegrationKey, Membership, User


@dataclass
class BareSandbox:
    url: str

    def rest(self, account: Account) -> str:
        """The eSignature REST base of `account`."""
        return f"{self.url}/restapi/v2.1/accounts/{account.account_id}"


@dataclass
class Member:
    account: Account
    user: User
    integration_key: IntegrationKey
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def bare_sandbox(transactional_db, settings) -> Iterator[BareSandbox]:
    from tests.sandbox_harness import serving_sandbox

    settings.DOCUSIGN_SANDBOX_CONNECT_TIMEOUT = 2
    settings.DOCUSIGN_SANDBOX_FAULT_DELAY = 1.5
    with serving_sandbox() as thread:
        yield BareSandbox(url=thread.url)


@pytest.fixture
def sandbox_member(bare_sandbox) -> Callable[..., Member]:
    """Makes a user of an account (a new one unless given) with a live access token."""
    counter = iter(range(1, 1000))

    def make(account: Account | None = None, *, admin: bool = True,
             integration_key: IntegrationKey | None = None) -> Member:
        n = next(counter)
        if account is None:
            account = Account.objects.create(name=f"Account {n}", account_number=f"{10_000_000 + n}")
        user = User.objects.create(email=f"user{n}@example.com", name=f"User {n}", password="!")
        Membership.objects.create(user=user, account=account, is_admin=admin, is_default=True)
        integration_key = integration_key or IntegrationKey.objects.create(name=f"Integration {n}")
        token = auth.issue_access_token(user, integration_key, "signature impersonation", "jwt", 3600)
        return Member(account, user, integration_key, token)

    return make


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class ConnectListener:
    url: str
    status: int = 200  # what the listener answers; set it to make deliveries fail
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def connect_listener() -> Iterator[ConnectListener]:
    """A loopback HTTP listener that records each POST's headers and exact body bytes."""
    listener = ConnectListener(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            listener.received.append(Received(dict(self.headers.items()), body))
            self.send_response(listener.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    listener.url = f"http://127.0.0.1:{server.server_address[1]}/docusign/connect"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        server.shutdown()
        server.server_close()
