"""eSignature REST calls for an account's settings and its users (docs/docusign.md §8).

All go through `rest.rest_call`. Bodies and answers are in DocuSign's shapes: camelCase, every scalar a string.
"""

from __future__ import annotations

from typing import Any

from docusign_integration.client import http
from docusign_integration.client.ids import require_guid
from docusign_integration.client.rest import AccountRef, rest_call


def get_account_settings(ref: AccountRef, *, bearer: str) -> dict[str, Any]:
    """accountSettingsInformation: a flat object of string properties."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/accounts/accounts/listsettings/
    return http.json_or_raise(rest_call(ref, "GET", "/settings", bearer=bearer))


def update_account_settings(ref: AccountRef, changes: dict[str, str], *, bearer: str) -> None:
    """Change only the named account settings (a partial object; DocuSign answers 200 with no body)."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/accounts/accounts/updatesettings/
    rest_call(ref, "PUT", "/settings", bearer=bearer, json=changes)


def get_user(ref: AccountRef, user_id: str, *, bearer: str) -> dict[str, Any]:
    """One user of the account (userInformation, including `isAdmin`)."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/users/users/get/
    return http.json_or_raise(rest_call(ref, "GET", f"/users/{require_guid(user_id, 'DocuSign user id')}", bearer=bearer))
