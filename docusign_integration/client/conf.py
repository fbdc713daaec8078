"""Where each DocuSign environment lives, and the ISV's credentials for it.

The portal's DocuSign client code is the same for `sandbox`, `demo` and `production`; only the hosts
below and the credentials differ. A `base_uri` (from userinfo, a stored row or a staff edit) is parsed
strictly, then its scheme, host and port are compared with the environment's (docs/security.md BI-2): a
bearer token never goes anywhere else.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import urllib3.exceptions
import urllib3.util
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from docusign_integration.client.errors import UntrustedHost

SANDBOX, DEMO, PRODUCTION = "sandbox", "demo", "production"
ENVIRONMENT_CHOICES = [(SANDBOX, "Sandbox (offline)"), (DEMO, "DocuSign demo"), (PRODUCTION, "DocuSign production")]


# The whole of an acceptable base_uri, ASCII only: scheme "://" host [":" port] ["/"]. No userinfo, "%", "\\",
# whitespace, query or fragment can match, so what is compared below is exactly what urllib3 connects to.
# re.ASCII keeps IGNORECASE from folding look-alikes (the Kelvin sign matches "k" otherwise).
_ORIGIN = re.compile(r"(?P<scheme>https?)://(?P<host>[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::(?P<port>[1-9][0-9]{0,4}))?/?",
                     re.ASCII | re.IGNORECASE)
_LABEL = r"(?!xn--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"  # one DNS label; IDNA (punycode) labels are refused
DEFAULT_PORTS = {"https": 443, "http": 80}
SANDBOX_LOOPBACK_SITES = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int  # always set: the scheme's default when the URI names none

    def __str__(self) -> str:
        default = DEFAULT_PORTS.get(self.scheme)
        return f"{self.scheme}://{self.host}" + ("" if self.port == default else f":{self.port}")


def parse_origin(value: object) -> Origin | None:
    """The scheme, host and port of a bare origin, in lower case; None for anything else (see _ORIGIN)."""
    if not isinstance(value, str) or len(value) > 200 or not value.isascii():
        return None
    match = _ORIGIN.fullmatch(value)
    if match is None:
        return None
    scheme, host = match["scheme"].lower(), match["host"].lower()
    port = int(match["port"]) if match["port"] else DEFAULT_PORTS[scheme]
    if port > 65535:
        return None
    origin = Origin(scheme, host, port)
    # Belt and braces: urllib3 (what requests connects with) must read the same scheme, host and port.
    try:
        parsed = urllib3.util.parse_url(str(origin))
    except urllib3.exceptions.LocationParseError:
        return None
    if (parsed.scheme, parsed.host, parsed.port or DEFAULT_PORTS[scheme]) != (scheme, host, port):
        return None
    return origin


@dataclass(frozen=True)
class Environment:
    name: str
    oauth_base_url: str  # scheme://host[:port] of the account server
    rest_scheme: str
    rest_host: re.Pattern[str]  # the whole lower-case host a base_uri may name
    rest_port: int
    base_uri_rule: str  # the rule in words, for error messages

    @property
    def oauth_host(self) -> str:
        """The JWT `aud`: the account server's host, no scheme, no slash (docs/docusign.md §2.1)."""
        return urlsplit(self.oauth_base_url).netloc

    def allowed_base_uri(self, base_uri: object) -> str:
        """The normalised origin of `base_uri` (lower case, no default port, no slash), for building API URLs.

        UntrustedHost unless it is a bare origin whose scheme, host and port are this environment's: no
        userinfo, path, query, fragment, other port, IP literal (demo, production), trailing dot or IDNA label.
        """
        origin = parse_origin(base_uri)
        if (origin is None or origin.scheme != self.rest_scheme or origin.port != self.rest_port
                or self.rest_host.fullmatch(origin.host) is None):
            raise UntrustedHost(error_code="UNTRUSTED_BASE_URI")
        return str(origin)


def get_environment(name: str) -> Environment:
    if name == SANDBOX:
        url = settings.DOCUSIGN_SANDBOX_URL.rstrip("/")
        origin = parse_origin(url)
        if origin is None:
            raise ImproperlyConfigured(f"DOCUSIGN_SANDBOX_URL must be a bare origin such as http://localhost:8001, "
                                       f"not {url!r}.")
        # The sandbox's own origin only; plain http is allowed because the sandbox is served on loopback. On a
        # loopback name its accounts live on two sites, the same server as 127.0.0.1 and as localhost, so the
        # portal is tested on using each account's own base_uri (docs/sandbox.md "Sites").
        hosts = SANDBOX_LOOPBACK_SITES if origin.host in SANDBOX_LOOPBACK_SITES else (origin.host,)
        return Environment(SANDBOX, url, origin.scheme, re.compile("|".join(map(re.escape, hosts))), origin.port,
                           f"the sandbox's own origin, {origin}"
                           + (" (or the same port on localhost/127.0.0.1)" if len(hosts) > 1 else ""))
    if name == DEMO:
        return Environment(DEMO, "https://account-d.docusign.com", "https", re.compile(r"demo\.docusign\.net"), 443,
                           "https://demo.docusign.net")
    if name == PRODUCTION:
        # Production accounts live on regional hosts (na1..na4, eu, au, ca ...): one label under docusign.net
        # (docs/docusign.md §5).
        return Environment(PRODUCTION, "https://account.docusign.com", "https", re.compile(_LABEL + r"\.docusign\.net"),
                           443, "https://<server>.docusign.net, such as https://na3.docusign.net")
    raise ImproperlyConfigured(f"Unknown DocuSign environment {name!r}")


def served_environments() -> list[str]:
    return list(settings.DOCUSIGN_ENVIRONMENTS)


def _read(value: str, path: str) -> str:
    if value:
        return value
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError:
            return ""
    return ""


def configured_private_key() -> str:
    """DOCUSIGN_PRIVATE_KEY, else the file DOCUSIGN_PRIVATE_KEY_FILE names, read now; "" when neither gives one."""
    return _read(settings.DOCUSIGN_PRIVATE_KEY, settings.DOCUSIGN_PRIVATE_KEY_FILE)


def configured_client_secret() -> str:
    """DOCUSIGN_CLIENT_SECRET, else the file DOCUSIGN_CLIENT_SECRET_FILE names, read now; "" when neither gives one."""
    return _read(settings.DOCUSIGN_CLIENT_SECRET, settings.DOCUSIGN_CLIENT_SECRET_FILE)


@functools.cache
def _private_key_pem() -> str:
    return configured_private_key()


def private_key_pem() -> str:
    """The RSA private key (PEM) that signs JWT assertions. Read once per process, never logged."""
    pem = _private_key_pem()
    if not pem:
        _private_key_pem.cache_clear()  # it may appear later (sandbox_seed writes it)
        raise ImproperlyConfigured("DocuSign RSA private key is not configured (docusign.E003).")
    return pem


def client_secret() -> str:
    """The integration key's secret, for the Authorization Code grant's Basic authentication."""
    secret = configured_client_secret()
    if not secret:
        raise ImproperlyConfigured("DocuSign client secret is not configured (docusign.E005).")
    return secret


def integration_key() -> str:
    return settings.DOCUSIGN_INTEGRATION_KEY


def reset_caches() -> None:
    """Forget credentials read from files (tests, and `sandbox_seed` writing a new key)."""
    _private_key_pem.cache_clear()
