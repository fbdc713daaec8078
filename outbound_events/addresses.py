"""Where an endpoint may point (no SSRF, docs/security.md EV-1): https on a public host, checked at every delivery.

The host is resolved here and every address it resolves to must be public: loopback, private, link-local (the
cloud metadata service, 169.254.169.254), shared (100.64/10), multicast, reserved and unspecified addresses are
refused, as are IPv6 forms that carry one of those inside (IPv4-mapped, NAT64, 6to4). The delivery then connects
to the address that was checked (`Target.address`), so a second DNS answer cannot redirect it (DNS rebinding).
The sandbox environment (OUTBOUND_EVENTS_ALLOW_LOOPBACK) also allows http and https to loopback, for `make run`
and the tests; nothing else is relaxed.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class RefusedURL(ValueError):
    """An endpoint URL the portal will not call; the message says why, in words staff can act on."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # the name: sent as Host and as TLS SNI, and checked against the certificate
    port: int
    path: str  # path and query
    address: str  # the checked IP the connection goes to


def resolve(host: str, port: int) -> list[str]:
    """The host's addresses (the tests replace this to play hostile DNS answers)."""
    try:
        return [str(ipaddress.ip_address(host))]  # an address literal needs no lookup
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedURL(f"The host {host!r} does not resolve.") from exc
    return [str(info[4][0]) for info in infos]


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            return is_public(inner)
        if address.scope_id:
            return False
    return address.is_global and not address.is_multicast


def _allow_loopback() -> bool:
    return bool(settings.OUTBOUND_EVENTS_ALLOW_LOOPBACK)


def check_url(url: str) -> tuple[str, str, int, str]:
    """The URL's scheme, host, port and path, or RefusedURL for anything but a plain http(s) URL (no resolution)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedURL("The URL is malformed.") from exc
    if parts.scheme not in ("https", "http"):
        raise RefusedURL("The URL must start with https://.")
    if parts.username is not None or parts.password is not None:
        raise RefusedURL("The URL must not contain a user name or password.")
    host = (parts.hostname or "").rstrip(".")
    if not host or any(c in host for c in "%\\ "):
        raise RefusedURL("The URL has no usable host name.")
    if parts.fragment:
        raise RefusedURL("The URL must not have a #fragment.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path


def target(url: str) -> Target:
    """Resolve `url`'s host and check every address; the Target to connect to, or RefusedURL saying why not."""
    scheme, host, port, path = check_url(url)
    addresses = []
    for text in resolve(host, port):
        try:
            addresses.append(ipaddress.ip_address(text))
        except ValueError as exc:
            raise RefusedURL(f"The host {host!r} resolved to something that is not an address.") from exc
    if not addresses:
        raise RefusedURL(f"The host {host!r} does not resolve.")
    if _allow_loopback() and all(a.is_loopback for a in addresses):
        return Target(scheme, host, port, path, str(addresses[0]))
    # Every answer must be public: a mixed answer is how a rebinding attacker gets one private address tried.
    for address in addresses:
        if not is_public(address):
            raise RefusedURL(f"The host {host!r} resolves to {address}, which is not a public address.")
    if scheme != "https":
        raise RefusedURL("The URL must start with https:// (events carry the client's data and are signed).")
    return Target(scheme, host, port, path, str(addresses[0]))
