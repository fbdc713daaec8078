"""Sites: each sandbox account lives at its own `base_uri`, as DocuSign's accounts live on na2, eu, demo...

userinfo names each account's own site (never the Host a request came in at), and a REST call for an account
made at another site is refused as DocuSign refuses it. An account with no site of its own (made in a test with
the ORM) is at the sandbox's configured origin, DOCUSIGN_SANDBOX_URL, and answered at any origin.
Reference: https://developers.docusign.com/platform/auth/reference/user-info/
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest

from .models import Account

DEFAULT_PORTS = {"http": 80, "https": 443}
# The names of this machine's loopback interface: the seed's second site is the same server under the other name.
LOOPBACK_TWINS = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}
# What DocuSign answers a call made at the wrong site (a token it cannot place): errorCode as reported in
# https://github.com/docusign/docusign-esign-java-client/issues/17; the HTTP status 401 is UNVERIFIED.
WRONG_SITE = ("USER_AUTHENTICATION_FAILED", "One or both of Username and Password are invalid. "
              "The account is not served at this site; use the base_uri that userinfo gives for it.")


def normalised(origin: str) -> str:
    """scheme://host[:port] in lower case, without the scheme's default port or a trailing slash."""
    parts = urlsplit(origin.strip().lower())
    port = parts.port
    default = port is None or port == DEFAULT_PORTS.get(parts.scheme)
    return f"{parts.scheme}://{parts.hostname}" + ("" if default else f":{port}")


def base_uri(account: Account) -> str:
    """The account's `base_uri` as userinfo gives it: its own site, else the sandbox's configured origin."""
    return normalised(account.base_uri or settings.DOCUSIGN_SANDBOX_URL)


def twin_site(origin: str) -> str:
    """The same server reached under the loopback interface's other name (127.0.0.1 <-> localhost)."""
    parts = urlsplit(origin)
    host = parts.hostname or ""
    twin = LOOPBACK_TWINS.get(host)
    if twin is None:
        raise ValueError(f"{origin} is not on a loopback name, so it has no second site")
    return normalised(origin.replace(f"//{host}", f"//{twin}", 1))


def served_here(request: HttpRequest, account: Account) -> bool:
    """Whether this request reached the account's site (always, for an account without a site of its own).

    The origin is what the client addressed (scheme and Host), as DocuSign's front routes by host name.
    """
    if not account.base_uri:
        return True
    return normalised(f"{request.scheme}://{request.get_host()}") == normalised(account.base_uri)
