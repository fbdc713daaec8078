"""eSignature REST v2.1 calls for one account (docs/docusign.md §6): `{base_uri}/restapi/v2.1/accounts/{id}`.

Reference: https://developers.docusign.com/docs/esign-rest-api/reference/
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from docusign_integration.client import conf, http
from docusign_integration.client.errors import InvalidIdentifier
from docusign_integration.client.ids import require_guid


@dataclass(frozen=True)
class AccountRef:
    """Where one DocuSign account's API lives; validated on construction so a bad value never builds a URL."""

    environment: str
    account_id: str
    base_uri: str

    def __post_init__(self) -> None:
        require_guid(self.account_id, "account_id")
        # A stored row is checked again: it may predate the rule, or have been edited outside the admin.
        object.__setattr__(self, "base_uri", conf.get_environment(self.environment).allowed_base_uri(self.base_uri))

    @property
    def api_url(self) -> str:
        return f"{self.base_uri}/restapi/v2.1/accounts/{self.account_id}"


def rest_call(ref: AccountRef, method: str, path: str, *, bearer: str, **kwargs: Any) -> http.Answer:
    """`method` on `path` (e.g. "/envelopes", ids already checked with `ids`) of the account, through http.call."""
    return http.call(method, _url(ref, path), environment=ref.environment, account_id=ref.account_id, bearer=bearer,
                     **kwargs)


def rest_download(ref: AccountRef, path: str, *, bearer: str, **kwargs: Any) -> http.Download:
    """GET `path` of the account with its body left unread (a document), through http.download."""
    return http.download("GET", _url(ref, path), environment=ref.environment, account_id=ref.account_id,
                         bearer=bearer, **kwargs)


def _url(ref: AccountRef, path: str) -> str:
    if not path.startswith("/") or any(part in path for part in ("..", "?", "#", "//", "\\", "%")):
        raise InvalidIdentifier("The API path is not a plain path.", error_code="INVALID_PATH")
    return ref.api_url + path
