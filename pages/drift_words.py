"""Setup drift in words a client admin reads: what differs on their DocuSign account, without DocuSign's field names.

The stored drift names the Connect configuration's fields (`events`, `urlToPublishTo`, `configurationType`...) and the
account settings (`settings.<name>`), as docusign_integration.setup.account_setup records them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

CONNECT_FIELDS = {
    "name": "the name of the portal's Connect configuration",
    "urlToPublishTo": "the address DocuSign sends envelope updates to",
    "events": "which envelope events DocuSign reports to the portal",
    "envelopeEvents": "which envelope events DocuSign reports to the portal",
    "recipientEvents": "which recipient events DocuSign reports to the portal",
    "allUsers": "whose envelopes DocuSign reports to the portal",
    "allowEnvelopePublish": "whether DocuSign reports envelope updates at all",
    "enableLog": "DocuSign's log of its deliveries to the portal",
    "includeHMAC": "the signature DocuSign puts on its messages to the portal",
    "requiresAcknowledgement": "DocuSign's retrying of messages the portal missed",
    "deliveryMode": "how DocuSign delivers its messages",
    "configurationType": "the kind of Connect configuration",
    "eventData": "what DocuSign's messages contain",
}


def _spaced(name: str) -> str:
    """`enableResponsiveSigning` -> "enable responsive signing"."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").lower()


def describe(field: str) -> str:
    if field.startswith("settings."):
        return f"the account setting \u201c{_spaced(field.removeprefix('settings.'))}\u201d"
    top = field.split(".", 1)[0]
    return CONNECT_FIELDS.get(top, f"the Connect configuration's \u201c{_spaced(top)}\u201d")


def drift_words(drift: Iterable[str]) -> list[str]:
    """Each differing thing once, in plain words, in the order recorded."""
    return list(dict.fromkeys(describe(field) for field in drift))
