"""No SSRF (docs/security.md EV-1): hostile URLs and DNS answers are refused before any connection; the resolver is
replaced, never the network. In production settings (no loopback allowance)."""

from __future__ import annotations

import pytest

from outbound_events import addresses
from outbound_events.addresses import RefusedURL


@pytest.fixture(autouse=True)
def production(settings):
    settings.OUTBOUND_EVENTS_ALLOW_LOOPBACK = False


def answer(monkeypatch, *ips):
    asked = []

    def resolve(host, port):
        asked.append((host, port))
        return list(ips)

    monkeypatch.setattr(addresses, "resolve", resolve)
    return asked


HOSTILE_ANSWERS = [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback range"), ("::1", "IPv6 loopback"),
    ("10.0.0.5", "private"), ("172.16.3.4", "private"), ("192.168.1.1", "private"), ("fd00::1", "IPv6 unique local"),
    ("169.254.169.254", "cloud metadata (link-local)"), ("fd00:ec2::254", "AWS IPv6 metadata"),
    ("fe80::1", "IPv6 link-local"), ("100.100.100.200", "Alibaba metadata (shared 100.64/10)"),
    ("0.0.0.0", "unspecified"), ("::", "IPv6 unspecified"), ("224.0.0.1", "multicast"), ("240.0.0.1", "reserved"),
    ("::ffff:127.0.0.1", "IPv4-mapped loopback"), ("::ffff:169.254.169.254", "IPv4-mapped metadata"),
    ("64:ff9b::a9fe:a9fe", "NAT64 of the metadata address"), ("2002:7f00:1::", "6to4 of loopback"),
    ("198.18.0.1", "benchmarking range"),
]


@pytest.mark.parametrize(("ip", "why"), HOSTILE_ANSWERS)
def test_a_host_resolving_to_an_internal_address_is_refused(monkeypatch, ip, why):
    answer(monkeypatch, ip)
    with pytest.raises(RefusedURL, match="not a public address"):
        addresses.target("https://hooks.isv.example/events")


def test_one_internal_address_among_public_ones_is_enough_to_refuse(monkeypatch):
    answer(monkeypatch, "93.184.216.34", "10.1.2.3")  # a rebinding attacker's mixed answer
    with pytest.raises(RefusedURL, match="10.1.2.3"):
        addresses.target("https://hooks.isv.example/events")


@pytest.mark.parametrize(("url", "why"), [
    ("http://hooks.isv.example/events", "plain http in production"),
    ("ftp://hooks.isv.example/events", "another scheme"),
    ("file:///etc/passwd", "a file"),
    ("https://user:pass@hooks.isv.example/events", "credentials in the URL"),
    ("https:///events", "no host"),
    ("https://hooks.isv.example:99999/", "a port out of range"),
    ("https://hooks.isv.example/#frag", "a fragment"),
    ("gopher://127.0.0.1:6379/_FLUSHALL", "a Redis smuggling URL"),
])
def test_urls_that_are_not_plain_https_are_refused(monkeypatch, url, why):
    answer(monkeypatch, "93.184.216.34")
    with pytest.raises(RefusedURL):
        addresses.target(url)


@pytest.mark.parametrize("url", ["https://127.0.0.1/", "https://[::1]/", "https://localhost/"])
def test_literal_internal_hosts_are_refused_by_their_real_resolution(url):
    # The real resolver (the suite lets it answer only for loopback): what counts is the address, not the spelling.
    with pytest.raises(RefusedURL, match="not a public address"):
        addresses.target(url)


@pytest.mark.parametrize(("host", "resolves_to"), [("2130706433", "127.0.0.1"), ("0x7f.1", "127.0.0.1"),
                                                   ("0251.0376.0251.0376", "169.254.169.254")])
def test_disguised_numeric_hosts_are_judged_by_what_they_resolve_to(monkeypatch, host, resolves_to):
    answer(monkeypatch, resolves_to)  # what glibc's inet_aton makes of these spellings
    with pytest.raises(RefusedURL, match="not a public address"):
        addresses.target(f"https://{host}/")


def test_a_public_host_yields_the_checked_address_to_connect_to(monkeypatch):
    asked = answer(monkeypatch, "93.184.216.34")
    target = addresses.target("https://hooks.isv.example:8443/events?token=x")
    assert (target.address, target.host, target.port, target.path) == ("93.184.216.34", "hooks.isv.example", 8443,
                                                                      "/events?token=x")
    assert asked == [("hooks.isv.example", 8443)]


def test_the_sandbox_setting_allows_loopback_and_nothing_else(monkeypatch, settings):
    settings.OUTBOUND_EVENTS_ALLOW_LOOPBACK = True
    answer(monkeypatch, "127.0.0.1")
    assert addresses.target("http://receiver.test:8002/hooks").address == "127.0.0.1"
    answer(monkeypatch, "10.0.0.5")
    with pytest.raises(RefusedURL):
        addresses.target("http://receiver.test/hooks")
