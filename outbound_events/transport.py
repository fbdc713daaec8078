"""One signed POST to a checked address: urllib3 connects to the IP `addresses.target` checked, while Host, TLS SNI and
the certificate check use the endpoint's host name; no redirects are followed and no proxy from the environment is
used (docs/security.md EV-1). Returns what the delivery log keeps: status, latency, the start of the answer."""

from __future__ import annotations

import time
from dataclasses import dataclass

import certifi
import urllib3
from django.conf import settings

from .addresses import Target

RESPONSE_START = 200  # characters of the answer kept in the delivery log


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer (refused, reset, timed out)
    latency_ms: int
    response_start: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(target: Target, headers: dict[str, str], body: bytes) -> Answer:
    timeout = urllib3.Timeout(connect=settings.OUTBOUND_EVENTS_CONNECT_TIMEOUT, read=settings.OUTBOUND_EVENTS_READ_TIMEOUT)
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(target.address, target.port, timeout=timeout, retries=False, maxsize=1,
                                           server_hostname=target.host, assert_hostname=target.host,
                                           cert_reqs="CERT_REQUIRED", ca_certs=certifi.where())
    else:  # loopback in the sandbox environment only (addresses.target refuses http elsewhere)
        pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout, retries=False, maxsize=1)
    host = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    started = time.monotonic()
    try:
        response = pool.urlopen("POST", target.path, body=body, headers={**headers, "Host": host},
                                redirect=False, retries=False, preload_content=False, assert_same_host=False)
        try:
            start = response.read(RESPONSE_START, decode_content=False)
        finally:
            response.release_conn()
        return Answer(response.status, _ms(started), start.decode("utf-8", "replace")[:RESPONSE_START])
    except urllib3.exceptions.HTTPError as exc:
        return Answer(None, _ms(started), error=_describe(exc))
    finally:
        pool.close()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _describe(exc: Exception) -> str:
    # The exception's class says what happened without echoing the URL's query or anything the peer sent.
    cause = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason else exc
    if isinstance(cause, urllib3.exceptions.NewConnectionError):  # a subclass of ConnectTimeoutError: first
        return "connect timeout" if "timed out" in str(cause) else "connection refused"
    if isinstance(cause, urllib3.exceptions.ConnectTimeoutError):
        return "connect timeout"
    if isinstance(cause, urllib3.exceptions.ReadTimeoutError):
        return "read timeout"
    if isinstance(cause, urllib3.exceptions.SSLError):
        return "TLS error"
    if isinstance(cause, urllib3.exceptions.ProtocolError):
        return "connection dropped"
    return type(cause).__name__[:200]
