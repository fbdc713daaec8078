"""The envelope custom field that names a hosted client inside the ISV account (docs/docusign.md §10.1).

Every envelope a hosted client sends carries it (`show` false: signers never see it); Connect messages and the
account-wide listing are routed by it together with the sender's user id, never by the account id alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from docusign_integration.client.ids import is_guid

# Reference: https://developers.docusign.com/docs/esign-rest-api/reference/envelopes/envelopecustomfields/
HOSTED_CLIENT_FIELD = "portalClientOrganization"


def hosted_client_custom_fields(slug: str) -> dict[str, list[dict[str, str]]]:
    """`customFields` naming the client organization `slug`, hidden from signers."""
    return {"textCustomFields": [{"name": HOSTED_CLIENT_FIELD, "value": slug, "show": "false", "required": "false"}]}


def hosted_client_named(summary: object) -> str | None:
    """The client slug an envelope's (or envelopeSummary's) `customFields` names, or None when absent or unreadable."""
    if not isinstance(summary, Mapping):
        return None
    fields: Any = summary.get("customFields")
    text_fields = fields.get("textCustomFields") if isinstance(fields, Mapping) else None
    if not isinstance(text_fields, list):
        return None
    values = [f.get("value") for f in text_fields if isinstance(f, Mapping) and f.get("name") == HOSTED_CLIENT_FIELD]
    # Two fields with the name would be a forgery or a bug: neither is trusted.
    return values[0] if len(values) == 1 and isinstance(values[0], str) and values[0] else None


def sender_user_id(summary: object) -> str | None:
    """The sending user's id in lower case (`sender.userId`), or None."""
    sender = summary.get("sender") if isinstance(summary, Mapping) else None
    user_id = sender.get("userId") if isinstance(sender, Mapping) else None
    return user_id.lower() if is_guid(user_id) else None
