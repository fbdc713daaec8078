"""The portal behind runserver's own request handler on a free loopback port, for tests that need a real server.

It records how many bytes of each request body the portal read (a counting reader around `wsgi.input`) and,
as runserver does, logs each request line to `django.server`. Unlike runserver it never reads the unread rest
of a body after answering (runserver's ServerHandler.close drains it; gunicorn's sync worker and a proxy in
front do not), so what a test measures is what the portal itself read.
"""

from __future__ import annotations

import contextlib
import select
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from wsgiref import simple_server

from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.servers import basehttp
from django.db import connections
from django.test.testcases import LiveServerThread

GIVE_UP_AFTER = 8 * 1_048_576  # a client sending this much without an answer has shown that the server reads on


class CountingInput:
    """`wsgi.input` that counts the bytes the application takes from it."""

    def __init__(self, stream: Any) -> None:
        self.stream, self.bytes_read = stream, 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read() if size is None or size < 0 else self.stream.read(size)
        self.bytes_read += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self.stream.readline() if size is None or size < 0 else self.stream.readline(size)
        self.bytes_read += len(data)
        return data


class CountingApp:
    def __init__(self, app: Callable) -> None:
        self.app = StaticFilesHandler(app)
        self.inputs: list[CountingInput] = []

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        counter = CountingInput(environ["wsgi.input"])
        self.inputs.append(counter)
        environ["wsgi.input"] = counter
        return self.app(environ, start_response)


class NoDrainServerHandler(basehttp.ServerHandler):
    def close(self) -> None:
        self.request_handler.close_connection = True
        simple_server.ServerHandler.close(self)  # not basehttp.ServerHandler.close, which reads the rest of the body


class RequestHandler(basehttp.WSGIRequestHandler):
    """runserver's request handler (its access log included) with NoDrainServerHandler."""

    def handle_one_request(self) -> None:
        # basehttp.WSGIRequestHandler.handle_one_request with the one class swapped.
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = NoDrainServerHandler(self.rfile, self.wfile, self.get_stderr(), self.get_environ())
        handler.request_handler = self
        handler.run(self.server.get_app())


class PortalServerThread(LiveServerThread):
    def _create_server(self, connections_override: dict | None = None) -> basehttp.ThreadedWSGIServer:
        return self.server_class((self.host, self.port), RequestHandler, allow_reuse_address=False,
                                 connections_override=connections_override)


@dataclass
class PortalServer:
    port: int
    app: CountingApp

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def last_body_read(self) -> int:
        return self.app.inputs[-1].bytes_read


@contextlib.contextmanager
def serving_portal() -> Iterator[PortalServer]:
    """The portal on a free loopback port; in-memory SQLite shared with the test, as LiveServerTestCase does."""
    override = {c.alias: c for c in connections.all() if c.vendor == "sqlite" and c.is_in_memory_db()}
    for conn in override.values():
        conn.inc_thread_sharing()
    thread = PortalServerThread("127.0.0.1", CountingApp, connections_override=override)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait(10)
    try:
        if thread.error:
            raise thread.error
        yield PortalServer(port=thread.port, app=thread.httpd.get_app())
    finally:
        thread.terminate()
        for conn in override.values():
            conn.dec_thread_sharing()


@dataclass
class Answer:
    status: int | None  # None: the server closed the connection without answering
    sent: int  # body bytes the client got onto the wire before the answer (or before giving up)
    head: bytes = field(repr=False, default=b"")


def post_streamed(server: PortalServer, path: str, *, headers: dict[str, str], body: Iterable[bytes],
                  give_up_after: int = GIVE_UP_AFTER) -> Answer:
    """POST `body` (an iterable: nothing is built in memory) and stop sending as soon as the server answers."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    with sock:
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        sock.sendall(head.encode())
        sent = 0
        for chunk in body:
            if select.select([sock], [], [], 0)[0] or sent >= give_up_after:
                break  # answered (or the server reads without end): stop, as a client reading the answer does
            try:
                sock.sendall(chunk)
            except OSError:  # the server answered and closed the connection meanwhile
                break
            sent += len(chunk)
        if sent >= give_up_after:
            sock.shutdown(socket.SHUT_WR)  # the end of what this client sends: the server's next read sees it
        answer = b""
        with contextlib.suppress(OSError):
            while b"\r\n\r\n" not in answer:
                part = sock.recv(65536)
                if not part:
                    break
                answer += part
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else None
    return Answer(status=status, sent=sent, head=answer.split(b"\r\n\r\n")[0])
