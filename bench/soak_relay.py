"""The network between the sandbox's Connect and the portal's listener: it duplicates and reorders, and times every ack.

The Connect configurations publish to this relay (it stands where a load balancer would). Each message from the
sandbox is forwarded with its exact bytes and headers and the portal's answer goes back to the sandbox, except:
- `reorder` of them are held back: the sandbox gets 200 at once and the message reaches the portal 2-20 s later,
  after newer messages of the same envelope (DocuSign gives no ordering guarantee);
- `duplicate` of them are POSTed once more 0-30 s later (some while the first copy is still being processed).
The relay keeps a held or duplicated message until the portal answers 200 (bounded), so it never loses one itself.
Every POST the portal answers is timed from the first byte sent to the answer read.
"""

from __future__ import annotations

import heapq
import json
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

FORWARDED_HEADERS = ("content-type", "x-docusign-accountid", "x-authorization-digest")
RELAY_ATTEMPTS = 60  # a held or duplicate message is retried for about a minute of portal errors
USER_AGENT = "soak-relay"


@dataclass
class Ack:
    """One POST the portal answered: why it was sent, its HTTP status, and how long the answer took."""

    kind: str  # "sandbox" (forwarded as DocuSign sent it), "late" (held back), "duplicate"
    status: int
    seconds: float
    at: float  # time.monotonic() when it was sent


@dataclass(order=True)
class _Scheduled:
    due: float
    seq: int
    kind: str = field(compare=False)
    body: bytes = field(compare=False)
    headers: dict[str, str] = field(compare=False)


def message_key(body: bytes) -> tuple[str, str, str, str, str]:
    """The listener's dedup key of a JSON SIM message: (account, envelope, event, generatedDateTime, recipientId)."""
    payload = json.loads(body)
    data = payload["data"]
    return (data["accountId"].lower(), data["envelopeId"].lower(), payload["event"], payload["generatedDateTime"],
            data.get("recipientId", ""))


class Relay:
    """A threaded HTTP server on a loopback port plus a scheduler thread for held and duplicate messages."""

    def __init__(self, listener_url: str, *, duplicate: float, reorder: float, seed: int) -> None:
        self.listener_url = listener_url
        self.duplicate, self.reorder = duplicate, reorder
        self.rng = random.Random(seed)
        self.acks: list[Ack] = []
        self.acknowledged: set[tuple[str, str, str, str, str]] = set()  # keys the portal answered 200 for
        self.received = 0  # messages the sandbox sent
        self.undeliverable = 0  # held or duplicate messages the portal never took (counted as lost)
        self._lock = threading.Lock()
        self._schedule: list[_Scheduled] = []
        self._seq = 0
        self._local = threading.local()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._threads = [threading.Thread(target=self._server.serve_forever, name="relay-http", daemon=True),
                         threading.Thread(target=self._run_schedule, name="relay-schedule", daemon=True)]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def pending(self) -> int:
        with self._lock:
            return len(self._schedule)

    def wait_empty(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.pending() and time.monotonic() < deadline:
            time.sleep(0.5)
        return not self.pending()

    # --- Sending to the portal ---------------------------------------------------------------------------------

    def post(self, kind: str, body: bytes, headers: dict[str, str]) -> int:
        """POST to the listener and record the ack; the HTTP status, or 0 when no answer came."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        started = time.monotonic()
        try:
            status = session.post(self.listener_url, data=body, headers={**headers, "User-Agent": USER_AGENT},
                                  timeout=100).status_code  # DocuSign's own deadline (docs/docusign.md §7.5)
        except requests.RequestException:
            status = 0
        with self._lock:
            self.acks.append(Ack(kind, status, time.monotonic() - started, started))
            if status == 200:
                self.acknowledged.add(message_key(body))
        return status

    def _later(self, delay: float, kind: str, body: bytes, headers: dict[str, str]) -> None:
        with self._lock:
            self._seq += 1
            heapq.heappush(self._schedule, _Scheduled(time.monotonic() + delay, self._seq, kind, body, headers))

    def _run_schedule(self) -> None:
        attempts: dict[int, int] = {}
        while not self._stopping.is_set():
            with self._lock:
                item = heapq.heappop(self._schedule) if self._schedule and self._schedule[0].due <= time.monotonic() else None
            if item is None:
                time.sleep(0.05)
                continue
            if self.post(item.kind, item.body, item.headers) == 200:
                attempts.pop(item.seq, None)
                continue
            attempts[item.seq] = attempts.get(item.seq, 0) + 1
            if attempts[item.seq] >= RELAY_ATTEMPTS:
                with self._lock:
                    self.undeliverable += 1
                continue
            with self._lock:  # try again in a second, keeping its place
                heapq.heappush(self._schedule, _Scheduled(time.monotonic() + 1, item.seq, item.kind, item.body, item.headers))

    # --- Receiving from the sandbox ----------------------------------------------------------------------------

    def _from_sandbox(self, body: bytes, headers: dict[str, str]) -> int:
        with self._lock:
            self.received += 1
            held = self.rng.random() < self.reorder
            duplicated = self.rng.random() < self.duplicate
            hold_for, duplicate_after = self.rng.uniform(2, 20), self.rng.uniform(0, 30)
        if duplicated:
            self._later(duplicate_after + (hold_for if held else 0), "duplicate", body, headers)
        if held:
            self._later(hold_for, "late", body, headers)
            return 200
        return self.post("sandbox", body, headers)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name: value for name, value in self.headers.items()
                           if name.lower() in FORWARDED_HEADERS or name.lower().startswith("x-docusign-signature-")}
                status = relay._from_sandbox(body, headers) or 502
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet: one line per message
                return

        return Handler
