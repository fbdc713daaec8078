"""Where each DocuSign environment lives, and the ISV's credentials for it.

The portal's DocuSign client code is the same for `sandbox`, `demo` and `production`; only the hosts
below and the credentials differ. `base_uri` values that DocuSign's userinfo returns are accepted only on
the hosts listed here (docs/security.md BI-2): a bearer token never goes anywhere else.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SANDBOX, DEMO, PRODUCTION = "sandbox", "demo", "production"
ENVIRONMENT_CHOICES = [(SANDBOX, "Sandbox (offline)"), (DEMO, "DocuSign demo"), (PRODUCTION, "DocuSign production")]


@dataclass(frozen=True)
class Environment:
    name: str
    oauth_base_url: str  # scheme://host[:port] of the account server
    rest_hosts: tuple[str, ...]  # exact host[:port] values a base_uri may use
    rest_host_suffixes: tuple[str, ...]  # or any host ending in one of these
    rest_scheme: str

    @property
    def oauth_host(self) -> str:
        """The JWT `aud`: the account server's host, no scheme, no slash (docs/docusign.md §2.1)."""
        return urlsplit(self.oauth_base_url).netloc

    def is_allowed_base_uri(self, base_uri: str) -> bool:
        """True when `base_uri` is a bare origin on this environment's eSignature hosts."""
        try:
            parts = urlsplit(base_uri)
        except ValueError:
            return False
        if parts.scheme != self.rest_scheme or parts.username or parts.password or parts.query or parts.fragment:
            return False
        if parts.path not in ("", "/"):
            return False
        host = parts.netloc.lower()
        return host in self.rest_hosts or any(host.endswith(suffix) for suffix in self.rest_host_suffixes)


def get_environment(name: str) -> Environment:
    if name == SANDBOX:
        url = settings.DOCUSIGN_SANDBOX_URL.rstrip("/")
        parts = urlsplit(url)
        return Environment(SANDBOX, url, (parts.netloc.lower(),), (), parts.scheme)
    if name == DEMO:
        return Environment(DEMO, "https://account-d.docusign.com", ("demo.docusign.net",), (), "https")
    if name == PRODUCTION:
        # Production accounts live on regional hosts (na1..na4, eu, au, ca ...): always *.docusign.net.
        return Environment(PRODUCTION, "https://account.docusign.com", ("docusign.net",), (".docusign.net",), "https")
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


@functools.cache
def _private_key_pem() -> str:
    return _read(settings.DOCUSIGN_PRIVATE_KEY, settings.DOCUSIGN_PRIVATE_KEY_FILE)


def private_key_pem() -> str:
    """The RSA private key (PEM) that signs JWT assertions. Read once per process, never logged."""
    pem = _private_key_pem()
    if not pem:
        _private_key_pem.cache_clear()  # it may appear later (sandbox_seed writes it)
        raise ImproperlyConfigured("DocuSign RSA private key is not configured (docusign.E003).")
    return pem


def client_secret() -> str:
    """The integration key's secret, for the Authorization Code grant's Basic authentication."""
    secret = _read(settings.DOCUSIGN_CLIENT_SECRET, settings.DOCUSIGN_CLIENT_SECRET_FILE)
    if not secret:
        raise ImproperlyConfigured("DocuSign client secret is not configured (docusign.E005).")
    return secret


def integration_key() -> str:
    return settings.DOCUSIGN_INTEGRATION_KEY


def reset_caches() -> None:
    """Forget credentials read from files (tests, and `sandbox_seed` writing a new key)."""
    _private_key_pem.cache_clear()
