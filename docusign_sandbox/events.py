"""Publishing envelope and recipient status changes to Connect.

`envelope_event(envelope, event, recipient=None)` is called by envelope_state after every change; it
records one ConnectDelivery (a JSON SIM message, docs/docusign.md §7.3) per matching Connect configuration of the
envelope's account and sends them in the background once the change commits (see connect_delivery).
"""

from __future__ import annotations

import random

from . import clock, connect_delivery
from .models import ConnectConfiguration, ConnectDelivery, Envelope, Recipient, SandboxControl


def envelope_event(envelope: Envelope, event: str, recipient: Recipient | None = None) -> None:
    """Record and publish `event` (a JSON SIM event name such as 'envelope-sent') for `envelope`."""
    drop_percent = SandboxControl.get().connect_drop_percent
    now = clock.now()
    for configuration in ConnectConfiguration.objects.filter(account_id=envelope.account_id).order_by("pk"):
        if not publishes(configuration, event, envelope.sender.user_id):
            continue
        # The drop share models messages DocuSign never sends: the portal must repair them by polling.
        dropped = random.random() * 100 < drop_percent
        delivery = ConnectDelivery.objects.create(
            configuration=configuration, account_id=envelope.account_id, envelope_id=envelope.envelope_id,
            event=event, url=configuration.body.get("urlToPublishTo", ""), created=now,
            payload=connect_delivery.sim_message(configuration, envelope, event, recipient),
            status=ConnectDelivery.DROPPED if dropped else ConnectDelivery.PENDING,
        )
        if not dropped:
            connect_delivery.enqueue_on_commit(delivery.pk)


def publishes(configuration: ConnectConfiguration, event: str, sender_user_id: str) -> bool:
    """Whether an account-level JSON SIM configuration publishes `event` for this sender's envelopes."""
    body = configuration.body
    if body.get("configurationType") != "custom" or not body.get("urlToPublishTo"):
        return False  # Recipient Connect and the legacy integrations are not emulated
    if body.get("allowEnvelopePublish") != "true" or body.get("pausePublish") == "true":
        return False
    if (body.get("eventData") or {}).get("version") != "restv2.1" or event not in (body.get("events") or []):
        return False
    listed = sender_user_id in (body.get("userIds") or [])
    if body.get("allUsers") == "true":
        return not (body.get("allUsersExcept") == "true" and listed)
    return listed
