"""A real HTTP receiver on loopback for the outbound events' tests: a threaded server whose answers are scripted."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def data(self) -> dict:
        return json.loads(self.body)["data"]


@dataclass
class Receiver:
    """`behave(n, data)` for the n-th request (from 0) and its event's data returns a status, "hang" (sleep past the
    read timeout) or "drop"."""

    behave: Callable[[int, dict], int | str] = lambda n, data: 200
    hang_seconds: float = 2.0
    received: list[Received] = field(default_factory=list)  # every request that got an answer, in arrival order
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/portal?token=t0ken"

    @property
    def delivered(self) -> list[Received]:
        return [r for r in self.received if 200 <= r.answered < 300]

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    n, receiver.count = receiver.count, receiver.count + 1
                action = receiver.behave(n, json.loads(body)["data"])
                if action == "drop":
                    self.connection.close()
                    return
                if action == "hang":
                    time.sleep(receiver.hang_seconds)
                    return
                assert isinstance(action, int)
                with receiver.lock:
                    receiver.received.append(Received(dict(self.headers.items()), body, action))
                self.send_response(action)
                if 300 <= action < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
