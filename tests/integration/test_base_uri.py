"""A `base_uri` is parsed strictly, then compared with the environment's allowlist (docs/security.md BI-2).

Every check goes through what the portal really does with a `base_uri`: parsing userinfo and building an
`AccountRef` from a stored row. The property test asks the question that matters: could a value the portal
accepts make urllib3 (what `requests` connects with) open a connection to a host off the allowlist?
"""

from __future__ import annotations

import re

import pytest
import requests
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from urllib3.util import parse_url

from docusign_integration.client import conf, errors
from docusign_integration.client.rest import AccountRef
from docusign_integration.oauth.account_server import UserInfo

ACCOUNT = "11111111-1111-4111-8111-111111111111"
USER = "33333333-3333-4333-8333-333333333333"
SANDBOX_URL = "http://127.0.0.1:8765"

HOSTILE = [
    # userinfo and its look-alikes
    "https://demo.docusign.net@evil.example",
    "https://demo.docusign.net\\@evil.example",
    "https://demo.docusign.net%2f@evil",
    "https://demo.docusign.net%40evil.example",
    "https://user:pw@demo.docusign.net",
    "https://@demo.docusign.net",
    "https://demo.docusign.net\uff20evil.example",  # fullwidth @
    # backslash: urllib3 ends the authority at "\", urlsplit does not
    "https://evil.example\\.docusign.net",
    "https://evil.example\\demo.docusign.net",
    "https:\\\\demo.docusign.net",
    # ports
    "https://demo.docusign.net:8443",
    "https://demo.docusign.net:0443",
    "https://demo.docusign.net:",
    "https://demo.docusign.net:443:443",
    "https://demo.docusign.net:65979",
    # odd host spellings
    "https://demo.docusign.net.",
    "https://demo.docusign.net..",
    "https://demo..docusign.net",
    "https://.demo.docusign.net",
    "https://demo.docusign.net.evil.example",
    "https://demo-docusign.net",
    "https://xn--dmo-8ma.docusign.net",
    "https://d\u0435mo.docusign.net",  # Cyrillic e
    "https://demo\u3002docusign.net",  # ideographic full stop: IDNA maps it to "."
    "https://demo.docusign.net\u200b",  # zero-width space
    "https://\u212aemo.docusign.net",  # Kelvin sign folds to "k" under a careless case-insensitive match
    # IP literals
    "https://[::1]",
    "https://127.0.0.1",
    "https://[::ffff:127.0.0.1]",
    "https://2130706433",
    # scheme
    "http://demo.docusign.net",
    "//demo.docusign.net",
    "demo.docusign.net",
    "https:demo.docusign.net",
    "https:///demo.docusign.net",
    "ftp://demo.docusign.net",
    # paths, queries, fragments
    "https://demo.docusign.net/restapi",
    "https://demo.docusign.net//",
    "https://demo.docusign.net/.",
    "https://demo.docusign.net?x=1",
    "https://demo.docusign.net?",
    "https://demo.docusign.net#",
    "https://demo.docusign.net#@evil.example",
    # whitespace and control characters
    "https://demo.docusign.net\t",
    "https://demo.docusign.net\n",
    "https://demo.docusign.net\r\nHost: evil.example",
    " https://demo.docusign.net",
    "https://demo.docusign.net ",
    "https://demo.docusign.net\x00",
    "https://demo .docusign.net",
    "",
    "https://",
]


def _userinfo(base_uri: object) -> dict:
    return {"sub": USER, "name": "Pat", "email": "pat@example.com",
            "accounts": [{"account_id": ACCOUNT, "account_name": "A", "base_uri": base_uri, "is_default": True}]}


@pytest.mark.parametrize("base_uri", HOSTILE)
def test_demo_refuses_a_hostile_base_uri_from_userinfo(base_uri):
    with pytest.raises(errors.UntrustedHost):
        UserInfo.from_json(_userinfo(base_uri), conf.get_environment(conf.DEMO))


@pytest.mark.parametrize("base_uri", [*HOSTILE, "https://docusign.net", "https://a.b.docusign.net",
                                      "https://na3.docusign.net:8443", "https://evil.example\\.na3.docusign.net",
                                      "https://xn--n3-hia.docusign.net", "https://na3.docusign.net.",
                                      "https://-na3.docusign.net", "https://na3-.docusign.net",
                                      "https://na3.docusign.net@evil.example", "https://na3.docusign.net%2f@evil"])
def test_production_refuses_a_hostile_base_uri_from_a_stored_row(base_uri):
    with pytest.raises(errors.UntrustedHost):
        AccountRef(conf.PRODUCTION, ACCOUNT, base_uri)


@pytest.mark.parametrize("base_uri", [f"{SANDBOX_URL}@evil.example", f"{SANDBOX_URL}\\@evil.example",
                                      "http://127.0.0.1:8766", "http://127.0.0.1", "https://127.0.0.1:8765",
                                      "http://localhost:8766", "https://localhost:8765", "http://localhost.:8765",
                                      f"{SANDBOX_URL}/restapi", f"{SANDBOX_URL}.",
                                      "http://127.0.0.1.:8765", "http://0x7f.0.0.1:8765", "http://127.1:8765",
                                      f"{SANDBOX_URL}?", f"{SANDBOX_URL}\t"])
def test_the_sandbox_accepts_only_its_configured_origin(settings, base_uri):
    settings.DOCUSIGN_SANDBOX_URL = SANDBOX_URL
    with pytest.raises(errors.UntrustedHost):
        AccountRef(conf.SANDBOX, ACCOUNT, base_uri)


def test_the_sandboxs_second_site_is_the_same_port_under_the_other_loopback_name(settings):
    settings.DOCUSIGN_SANDBOX_URL = SANDBOX_URL  # the seed puts accounts on both names (docs/sandbox.md "Sites")

    assert AccountRef(conf.SANDBOX, ACCOUNT, "http://LOCALHOST:8765/").base_uri == "http://localhost:8765"


@pytest.mark.parametrize("base_uri", ["http://localhost:8001", "http://127.0.0.1:8001"])
def test_a_sandbox_on_a_non_loopback_name_has_no_second_site(settings, base_uri):
    settings.DOCUSIGN_SANDBOX_URL = "http://sandbox.internal:8001"
    with pytest.raises(errors.UntrustedHost):
        AccountRef(conf.SANDBOX, ACCOUNT, base_uri)


@pytest.mark.parametrize(("environment", "base_uri", "origin"), [
    (conf.DEMO, "https://demo.docusign.net", "https://demo.docusign.net"),
    (conf.DEMO, "https://demo.docusign.net/", "https://demo.docusign.net"),
    (conf.DEMO, "https://DEMO.docusign.net", "https://demo.docusign.net"),
    (conf.DEMO, "HTTPS://Demo.DocuSign.Net", "https://demo.docusign.net"),
    (conf.DEMO, "https://demo.docusign.net:443", "https://demo.docusign.net"),  # the default port, written out
    (conf.PRODUCTION, "https://na3.docusign.net", "https://na3.docusign.net"),
    (conf.PRODUCTION, "https://na3.docusign.net:443", "https://na3.docusign.net"),
    (conf.PRODUCTION, "https://EU.docusign.net/", "https://eu.docusign.net"),
    (conf.PRODUCTION, "https://www.docusign.net", "https://www.docusign.net"),
    (conf.SANDBOX, SANDBOX_URL, SANDBOX_URL),
    (conf.SANDBOX, SANDBOX_URL + "/", SANDBOX_URL),
])
def test_an_allowed_base_uri_is_used_in_its_normalised_form(settings, environment, base_uri, origin):
    settings.DOCUSIGN_SANDBOX_URL = SANDBOX_URL
    ref = AccountRef(environment, ACCOUNT, base_uri)
    info = UserInfo.from_json(_userinfo(base_uri), conf.get_environment(environment))

    assert ref.base_uri == info.accounts[0].base_uri == origin
    assert ref.api_url == f"{origin}/restapi/v2.1/accounts/{ACCOUNT}"


def test_a_base_uri_that_is_not_a_string_is_refused():
    for value in (None, 42, ["https://demo.docusign.net"], {"host": "demo.docusign.net"}, b"https://demo.docusign.net"):
        with pytest.raises(errors.UntrustedHost):
            UserInfo.from_json(_userinfo(value), conf.get_environment(conf.DEMO))


# The property: whatever the portal accepts, the connection goes to an allowlisted host and port.

def _allowed(environment: str, scheme: str | None, host: str | None, port: int | None) -> bool:
    """The allowlist, restated independently of the code under test."""
    if environment == conf.SANDBOX:
        return (scheme, host, port or 80) == ("http", "127.0.0.1", 8765)
    if scheme != "https" or (port or 443) != 443 or host is None:
        return False
    if environment == conf.DEMO:
        return host == "demo.docusign.net"
    return re.fullmatch(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.docusign\.net", host) is not None


def _where_requests_connects(url: str) -> tuple[str | None, str | None, int | None]:
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, None)
    parsed = parse_url(prepared.url)
    return parsed.scheme, parsed.host, parsed.port


FRAGMENTS = [
    "https://", "http://", "HTTPS://", "https:", "//", "/", "\\", "@", "%2f", "%40", "%2e", ":", ":443", ":8443",
    ":8765", ".", "..", "?", "#", " ", "\t", "\n", "\r", "\x00", "\u3002", "\uff0e", "\uff20", "\u200b", "\u212a",
    "demo", "DEMO", "na3", "docusign", ".docusign.net", "demo.docusign.net", "na3.docusign.net", "docusign.net",
    "evil.example", "xn--", "127.0.0.1", "localhost", "[::1]", "[", "]", "user:pw", "restapi", "-",
]
PREFIXES = ["https://", "http://", "https://demo.docusign.net", "https://na3.docusign.net", SANDBOX_URL, ""]


@hypothesis_settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from(PREFIXES), parts=st.lists(st.sampled_from(FRAGMENTS), max_size=6),
       environment=st.sampled_from([conf.DEMO, conf.PRODUCTION, conf.SANDBOX]))
@example(prefix="https://evil.example", parts=["\\", ".docusign.net"], environment=conf.PRODUCTION)
@example(prefix="https://demo.docusign.net", parts=["\\", "@", "evil.example"], environment=conf.DEMO)
@example(prefix=SANDBOX_URL, parts=["\\", "@", "evil.example"], environment=conf.SANDBOX)
def test_no_accepted_base_uri_connects_off_the_allowlist(settings, prefix, parts, environment):
    settings.DOCUSIGN_SANDBOX_URL = SANDBOX_URL
    value = prefix + "".join(parts)
    try:
        ref = AccountRef(environment, ACCOUNT, value)
    except errors.UntrustedHost:
        return
    raw = parse_url(value)
    assert _allowed(environment, raw.scheme, raw.host, raw.port), f"{value!r} would reach {raw.host!r}:{raw.port}"
    for url in (value + "/restapi/v2.1/accounts/x", ref.api_url + "/envelopes"):
        where = _where_requests_connects(url)
        assert _allowed(environment, *where), f"{url!r} would reach {where}"
    assert ref.base_uri == f"{raw.scheme}://{raw.host}" + (f":{raw.port}" if raw.port not in (None, 443, 80) else "")
