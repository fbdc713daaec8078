"""A scripted loopback HTTP server for faults the sandbox cannot produce on demand (docs/security.md BG-1, BI-1, BI-2).

Each test queues the answers it wants (`FakeServer.answer`, `.hang()`, `.drop()`); every request received is
recorded so a test can count exactly what reached the wire.
"""

from __future__ import annotations

import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    action: str = "answer"  # answer | hang | drop
    send_length: bool = True


class FakeServer:
    def __init__(self) -> None:
        self.answers: deque[Answer] = deque()
        self.default = Answer(status=599, body=b'{"errorCode":"NO_SCRIPTED_ANSWER"}')
        self.received: list[Received] = []
        self.release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                owner.received.append(Received(self.command, self.path, dict(self.headers.items()), body))
                answer = owner.answers.popleft() if owner.answers else owner.default
                if answer.action == "hang":
                    owner.release.wait(10)
                    return
                if answer.action == "drop":
                    self.close_connection = True
                    self.request.shutdown(socket.SHUT_RDWR)
                    return
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    if answer.send_length:
                        self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the client gave up reading (size cap): expected

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.httpd.server_address[1]}"

    def answer(self, status: int = 200, body: bytes | str = b"{}", headers: dict[str, str] | None = None,
               *, times: int = 1, send_length: bool = True) -> None:
        body = body.encode() if isinstance(body, str) else body
        for _ in range(times):
            self.answers.append(Answer(status, body, headers if headers is not None else
                                       {"Content-Type": "application/json"}, send_length=send_length))

    def hang(self) -> None:
        self.answers.append(Answer(action="hang"))

    def drop(self, times: int = 1) -> None:
        for _ in range(times):
            self.answers.append(Answer(action="drop"))

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake_docusign(settings):
    """A scripted server standing in for the `sandbox` environment's hosts, with fast retries and timeouts."""
    server = FakeServer()
    server.thread.start()
    settings.DOCUSIGN_SANDBOX_URL = server.url
    settings.DOCUSIGN_HTTP_TIMEOUT = (1.0, 0.5)
    settings.DOCUSIGN_HTTP_BACKOFF_BASE = 0.01
    settings.DOCUSIGN_HTTP_BACKOFF_MAX = 0.02
    yield server
    server.stop()


@pytest.fixture
def other_server():
    """A second loopback host, e.g. where a redirect points."""
    server = FakeServer()
    server.thread.start()
    yield server
    server.stop()

