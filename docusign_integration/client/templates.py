"""eSignature REST v2.1 template calls: the account's templates with their roles, read for the ISV's API.

One DocuSign operation per function, through `rest.rest_call` like the envelope calls (esign_envelopes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from docusign_integration.client import http
from docusign_integration.client.errors import BadResponse
from docusign_integration.client.rest import AccountRef, rest_call

LIST_PAGE_SIZE = 100
LIST_MAX_BYTES = 8 * 1_048_576
MAX_PAGES = 20  # 2,000 templates: more than any client keeps; a bound on a hostile nextUri chain


@dataclass(frozen=True)
class TemplateRole:
    """A recipient of a template: the role an envelope's `templateRoles` entry fills, and its recipientId."""

    role_name: str
    recipient_id: str


@dataclass(frozen=True)
class TemplateSummary:
    template_id: str
    name: str
    description: str
    roles: tuple[TemplateRole, ...]


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _roles(recipients: object) -> tuple[TemplateRole, ...]:
    if not isinstance(recipients, dict):
        return ()
    roles = []
    for collection in ("signers", "carbonCopies", "certifiedDeliveries", "inPersonSigners"):
        items = recipients.get(collection) or []
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and _text(item.get("roleName")):
                roles.append(TemplateRole(role_name=_text(item["roleName"])[:100],
                                          recipient_id=_text(item.get("recipientId"))[:100]))
    return tuple(roles)


def _summary(item: dict[str, Any]) -> TemplateSummary:
    template_id = _text(item.get("templateId"))
    if not template_id:
        raise BadResponse("A template in DocuSign's list has no templateId.", error_code="UNEXPECTED_SHAPE")
    return TemplateSummary(template_id=template_id[:36], name=_text(item.get("name"))[:200],
                           description=_text(item.get("description"))[:500], roles=_roles(item.get("recipients")))


def list_templates(ref: AccountRef, *, bearer: str) -> list[TemplateSummary]:
    """GET /templates?include=recipients, every page: the account's templates with their roles."""
    # Reference: https://developers.docusign.com/docs/esign-rest-api/reference/templates/templates/list/
    templates: list[TemplateSummary] = []
    start = 0
    for _ in range(MAX_PAGES):
        params = {"include": "recipients", "start_position": str(start), "count": str(LIST_PAGE_SIZE)}
        body = http.json_or_raise(rest_call(ref, "GET", "/templates", bearer=bearer, params=params,
                                            max_bytes=LIST_MAX_BYTES))
        items = body.get("envelopeTemplates") or []
        if not isinstance(items, list):
            raise BadResponse("DocuSign's template list has no envelopeTemplates list.", error_code="UNEXPECTED_SHAPE")
        templates.extend(_summary(item) for item in items if isinstance(item, dict))
        if not body.get("nextUri") or not items:
            break
        start += len(items)
    return templates
