"""Identifier checks before an id goes into a URL (docs/security.md BI-3).

Only ASCII GUIDs (and DocuSign's documented document ids) pass: no path separators, percent-escapes,
query characters or Unicode look-alikes ever reach a DocuSign URL.
"""

from __future__ import annotations

import re
from typing import TypeGuard

from docusign_integration.client.errors import InvalidIdentifier

# [0-9a-fA-F] rather than \d or \w: those match non-ASCII digits and letters in Python's `re`.
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DOCUMENT_ID = re.compile(r"[0-9]{1,9}")
DOCUMENT_ID_KEYWORDS = ("combined", "certificate", "archive")


def require_guid(value: object, what: str) -> str:
    """`value` if it is a GUID, else InvalidIdentifier naming `what` (e.g. "account_id")."""
    if isinstance(value, str) and len(value) == 36 and _GUID.fullmatch(value):
        return value
    raise InvalidIdentifier(f"The {what} is not a valid DocuSign GUID.", error_code="INVALID_IDENTIFIER")


def require_document_id(value: object) -> str:
    """A document id: DocuSign's digits, or one of combined / certificate / archive."""
    if isinstance(value, str) and (value in DOCUMENT_ID_KEYWORDS or _DOCUMENT_ID.fullmatch(value)):
        return value
    raise InvalidIdentifier("The document id is not a valid DocuSign document id.", error_code="INVALID_IDENTIFIER")


def is_guid(value: object) -> TypeGuard[str]:
    """True for a GUID as `require_guid` accepts it."""
    return isinstance(value, str) and len(value) == 36 and _GUID.fullmatch(value) is not None
