"""eSignature REST calls for an account's Connect configurations (docs/docusign.md §7.1).

All go through `rest.rest_call`. Bodies and answers are in DocuSign's shapes: camelCase, every scalar a string.
"""

from __future__ import annotations

import re
from typing import Any

from docusign_integration.client import http
from docusign_integration.client.errors import BadResponse, InvalidIdentifier
from docusign_integration.client.rest import AccountRef, rest_call

_CONNECT_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits only: str.isdigit() also accepts other scripts' digits


def _connect_id(connect_id: str) -> str:
    # DocuSign's connectId is a number sent as a string; anything else must never reach a URL or a body.
    if not isinstance(connect_id, str) or not _CONNECT_ID.fullmatch(connect_id):
        raise InvalidIdentifier("A Connect configuration id is a number.", error_code="INVALID_CONNECT_ID")
    return connect_id


def _configurations(body: dict[str, Any]) -> list[dict[str, Any]]:
    configurations = body.get("configurations") or []
    if not isinstance(configurations, list) or not all(isinstance(c, dict) for c in configurations):
        raise BadResponse("DocuSign's list of Connect configurations has an unexpected shape.", error_code="UNEXPECTED_SHAPE")
    return configurations


def list_connect_configurations(ref: AccountRef, *, bearer: str) -> list[dict[str, Any]]:
    """The account's Connect configurations (connectConfigResults.configurations)."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/connect/connectconfigurations/list/
    return _configurations(http.json_or_raise(rest_call(ref, "GET", "/connect", bearer=bearer)))


def get_connect_configuration(ref: AccountRef, connect_id: str, *, bearer: str) -> dict[str, Any]:
    """One Connect configuration (DocuSign answers with the list wrapper holding one item)."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/connect/connectconfigurations/get/
    response = rest_call(ref, "GET", f"/connect/{_connect_id(connect_id)}", bearer=bearer)
    configurations = _configurations(http.json_or_raise(response))
    if len(configurations) != 1:
        raise BadResponse("DocuSign's answer does not hold exactly one Connect configuration.", error_code="UNEXPECTED_SHAPE")
    return configurations[0]


def create_connect_configuration(ref: AccountRef, configuration: dict[str, Any], *, bearer: str) -> dict[str, Any]:
    """Create a Connect configuration; returns it with its new `connectId` (never retried: a retry could duplicate it)."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/connect/connectconfigurations/create/
    created = http.json_or_raise(rest_call(ref, "POST", "/connect", bearer=bearer, json=configuration, idempotent=False))
    _connect_id(str(created.get("connectId", "")))
    return created


def update_connect_configuration(ref: AccountRef, connect_id: str, configuration: dict[str, Any], *,
                                 bearer: str) -> dict[str, Any]:
    """Update a Connect configuration: `PUT /connect` with the `connectId` in the body, not the path."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/connect/connectconfigurations/update/
    body = {**configuration, "connectId": _connect_id(connect_id)}
    return http.json_or_raise(rest_call(ref, "PUT", "/connect", bearer=bearer, json=body))

