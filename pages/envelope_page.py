"""What one envelope's page shows: its outcome banner, badge, actions, recipients and downloads, from the portal's rows.

The page and its live fragment (polled by static/envelope_live.js until the envelope is final) share this one context,
so the banner, the badge and the buttons are computed together and never disagree. DocuSign's return `event` (from
the query string) only picks the banner's words: statuses come from DocuSign (Connect or the sweep), never from a URL.
While the portal has not yet heard what the person just did in DocuSign, the page says it is waiting instead of showing
the stale status's actions (no "Prepare and send" after Send, no "Sign now" after signing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.models import User

from docusign_integration.envelopes import sending
from docusign_integration.envelopes.models.documents import DocumentKind, DocumentState
from docusign_integration.envelopes.models.envelopes import EmbeddedSigner, Envelope, EnvelopeStatus, SignerIdentityKind

SIGNABLE = (EnvelopeStatus.SENT, EnvelopeStatus.DELIVERED)
FINAL = (EnvelopeStatus.COMPLETED, EnvelopeStatus.DECLINED, EnvelopeStatus.VOIDED)
# The fragment is polled this often (milliseconds) while the envelope is not final.
POLL_INTERVAL_MS = 2000


@dataclass(frozen=True)
class Outcome:
    """The banner: a message level (django.contrib.messages) and its words."""

    level: int
    text: str

    @property
    def tags(self) -> str:
        return messages.DEFAULT_TAGS.get(self.level, "info")


# DocuSign's sender view return events (docs/docusign.md §6.2) and what the person is told.
SENDER_EVENTS = {
    "Send": Outcome(messages.SUCCESS, "Sent. DocuSign is notifying the recipients; embedded signers sign from this page."),
    "Save": Outcome(messages.INFO, "Saved as a draft in DocuSign. Open it again to prepare and send it."),
    "Cancel": Outcome(messages.INFO, "Nothing was sent. The draft is kept in DocuSign."),
    "Error": Outcome(messages.ERROR, "DocuSign could not send the envelope. Open it again, or ask your DocuSign administrator."),
}
# DocuSign's recipient view return events (docs/docusign.md §6.2).
SIGNING_EVENTS = {
    "signing_complete": Outcome(messages.SUCCESS, "Signed. DocuSign has your signature."),
    "decline": Outcome(messages.WARNING, "You declined to sign. The sender is told by DocuSign."),
    "cancel": Outcome(messages.INFO, "Signing was put off. Use Sign now to finish later."),
    "viewing_complete": Outcome(messages.INFO, "You viewed the envelope."),
    "ttl_expired": Outcome(messages.WARNING, "The signing link had expired (links last five minutes). Use Sign now again."),
    "session_timeout": Outcome(messages.WARNING, "The signing session timed out. Use Sign now again."),
    "exception": Outcome(messages.ERROR, "DocuSign could not complete signing. Try again in a few minutes."),
    "fax_pending": Outcome(messages.INFO, "DocuSign is waiting for a fax from you."),
    "id_check_failed": Outcome(messages.ERROR, "DocuSign could not verify your identity, so signing did not happen."),
    "access_code_failed": Outcome(messages.ERROR, "The access code was wrong, so signing did not happen."),
}
UNKNOWN_EVENT = Outcome(messages.WARNING, "DocuSign sent you back without saying what happened. Check the envelope's status.")
SENDING_PENDING = Outcome(messages.INFO, "Sending: DocuSign has the envelope and is confirming it was sent. "
                                         "This page updates by itself.")
SIGNING_PENDING = Outcome(messages.INFO, "Signing: waiting for DocuSign to confirm your signature. "
                                         "This page updates by itself.")
# Events after which the person's own signing is over, whatever the stored recipient status still says.
SIGNING_DONE_EVENTS = ("signing_complete", "decline")


def sender_outcome(event: str) -> Outcome:
    return SENDER_EVENTS.get(event, UNKNOWN_EVENT)


def signing_outcome(event: str) -> Outcome:
    return SIGNING_EVENTS.get(event, UNKNOWN_EVENT)


def envelope_context(envelope: Envelope, user: User, *, sent_event: str = "", signed_event: str = "") -> dict[str, Any]:
    """The page's and the fragment's context; a constant number of queries (bindings, stored documents)."""
    signable = envelope.status in SIGNABLE
    me = sending.SignerIdentity.portal_user(user)
    bindings = {b.recipient_id: b for b in envelope.embedded_signers.select_related("portal_user")}
    outcome: Outcome | None = None
    sending_pending = sent_event == "Send" and envelope.status == EnvelopeStatus.CREATED
    if sent_event:
        outcome = SENDING_PENDING if sending_pending else sender_outcome(sent_event)
    signing_pending = False
    recipients = []
    for recipient in envelope.recipients:
        binding = bindings.get(recipient.get("recipient_id"))
        mine = binding is not None and me.is_bound_to(binding)
        open_for_signing = signable and recipient.get("status") in ("sent", "delivered")
        if mine and open_for_signing and signed_event in SIGNING_DONE_EVENTS:
            signing_pending = True  # DocuSign has not reported it yet: no second "Sign now" meanwhile
        recipients.append({
            **recipient, "binding": binding, "signs_here_as": _signs_here_as(binding),
            # Only the person bound to the signer when the envelope was created (the product's rules).
            "can_sign": mine and open_for_signing and signed_event not in SIGNING_DONE_EVENTS,
        })
    if signed_event:
        outcome = SIGNING_PENDING if signing_pending else signing_outcome(signed_event)
    stored = {d.kind: d for d in envelope.signed_documents.filter(state=DocumentState.STORED)}
    downloads = [(kind, label, stored.get(kind)) for kind, label in DocumentKind.choices]
    completed = envelope.status == EnvelopeStatus.COMPLETED
    return {
        "envelope": envelope, "recipients": recipients, "downloads": downloads, "outcome": outcome,
        "badge": "Sending" if sending_pending else envelope.get_status_display(),
        "can_prepare": envelope.status == EnvelopeStatus.CREATED and not sending_pending,
        # Live until final and every signed document is stored (they arrive after completion).
        "final": envelope.status in FINAL and not signing_pending and (not completed or len(stored) == len(downloads)),
        "poll_interval_ms": POLL_INTERVAL_MS,
        "event_query": _event_query(sent_event, signed_event),
    }


def known_event(value: str, events: dict[str, Outcome]) -> str:
    """`value` when it is one of DocuSign's events, else "unknown" (the URL's own text is never echoed back)."""
    return value if value in events else ("unknown" if value else "")


def _event_query(sent_event: str, signed_event: str) -> str:
    pairs = [(k, v) for k, v in (("sent", sent_event), ("signed", signed_event)) if v]
    return f"?{urlencode(pairs)}" if pairs else ""


def _signs_here_as(binding: EmbeddedSigner | None) -> str:
    if binding is None:
        return ""
    if binding.identity_kind == SignerIdentityKind.END_USER:
        return "a user of the ISV's product"
    return sending.portal_user_name(binding.portal_user) if binding.portal_user else "a former member"
