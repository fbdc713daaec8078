"""Serving the sandbox on its own origin: `manage.py runsandbox`, and the pytest fixture.

The sandbox shares the project's settings and database but answers with its own URLconf, so that it sits
at DocuSign's own paths (`/oauth/token`, `/restapi/v2.1/...`) on another host name than the portal.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from typing import Any
from wsgiref.headers import Headers
from wsgiref.simple_server import WSGIServer

from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.core.servers.basehttp import ServerHandler, ThreadedWSGIServer, WSGIRequestHandler
from django.db import connections
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from .faults import DROP_CONNECTION_HEADER
from .middleware import SandboxMiddleware

URLCONF = "docusign_sandbox.urls"


class SandboxRequest(WSGIRequest):
    """A request to the sandbox's origin: Django resolves it with the sandbox's URLconf (`request.urlconf`)."""

    urlconf = URLCONF


class SandboxHandler(WSGIHandler):
    """Django's WSGI handler with the sandbox's URLconf and SandboxMiddleware around every request."""

    request_class = SandboxRequest

    def __init__(self) -> None:
        super().__init__()
        self._sandbox_chain = SandboxMiddleware(super().get_response)

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        return self._sandbox_chain(request)


class DroppingServerHandler(ServerHandler):
    """Closes the connection without sending a byte when the response carries the drop marker (a `drop` fault)."""

    headers: Headers | None  # wsgiref's: set by start_response

    def __init__(self, *args: Any, request_handler: WSGIRequestHandler, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_handler = request_handler

    def finish_response(self) -> None:
        if self.headers is not None and DROP_CONNECTION_HEADER in self.headers:
            self.request_handler.close_connection = True  # handle() then shuts the socket down unanswered
            self.close()
            return
        super().finish_response()


class SandboxRequestHandler(WSGIRequestHandler):
    """Django's request handler with DroppingServerHandler in place of its ServerHandler."""

    # Without TCP_NODELAY a keep-alive client waits ~40 ms for each response (Nagle + delayed ACK).
    disable_nagle_algorithm = True

    def handle_one_request(self) -> None:
        # Django's WSGIRequestHandler.handle_one_request, with the one class swapped.
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = DroppingServerHandler(self.rfile, self.wfile, self.get_stderr(), self.get_environ(), request_handler=self)
        app = self.server.get_app() if isinstance(self.server, WSGIServer) else None
        if app is None:
            raise TypeError("SandboxRequestHandler serves a WSGIServer with its application set.")
        handler.run(app)


class QuietRequestHandler(SandboxRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class SandboxWSGIServer(ThreadedWSGIServer):
    """Django's threaded server that remembers its open client sockets, so stopping can end their threads."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open_sockets: set[socket.socket] = set()
        self._sockets_lock = threading.Lock()

    def process_request(self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any) -> None:
        if isinstance(request, socket.socket):  # always, for TCP (a datagram server would pass a tuple)
            with self._sockets_lock:
                self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket | tuple[bytes, socket.socket]) -> None:
        if isinstance(request, socket.socket):
            with self._sockets_lock:
                self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_client_sockets(self) -> None:
        """End keep-alive connections: their threads would otherwise wait for a next request forever."""
        with self._sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class SandboxServerThread(threading.Thread):
    """The sandbox on a free loopback port in a background thread (tests, benchmarks)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, connections_override: dict | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(daemon=True, name="docusign-sandbox")
        self.host, self.port = host, port
        self.ssl_context = ssl_context  # serve HTTPS (clients such as DocuSign's SDK only speak https://)
        self.connections_override = connections_override or {}
        self.is_ready = threading.Event()
        self.error: BaseException | None = None
        self.httpd: SandboxWSGIServer | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://{self.host}:{self.port}"

    def run(self) -> None:
        for alias, conn in self.connections_override.items():
            connections[alias] = conn
        try:
            self.httpd = SandboxWSGIServer((self.host, self.port), QuietRequestHandler,
                                            allow_reuse_address=False, connections_override=self.connections_override)
            self.port = self.httpd.server_address[1]
            if self.ssl_context is not None:
                self.httpd.socket = self.ssl_context.wrap_socket(self.httpd.socket, server_side=True)
                self.httpd.base_environ["HTTPS"] = "on"  # so request.scheme is https
            self.httpd.set_app(SandboxHandler())
            self.is_ready.set()
            self.httpd.serve_forever(poll_interval=0.05)
        except BaseException as exc:  # reported to the starting thread
            self.error = exc
            self.is_ready.set()
        finally:
            connections.close_all()

    def start_and_wait(self) -> SandboxServerThread:
        self.start()
        self.is_ready.wait(10)
        if self.error:
            raise self.error
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.close_client_sockets()
            self.httpd.server_close()
        self.join(5)
