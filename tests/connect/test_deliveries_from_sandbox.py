"""End to end: the sandbox's Connect sends to the portal's listener (live server), with drops, duplicates and reordering.

The sandbox signs with the partner account's keys (integratorManaged); the portal has those keys as partner keys,
as `seed_demo` sets them up. 10% of the messages are dropped by the sandbox and re-POSTed at the end (so they arrive
after newer ones: out of order), and 20% are delivered a second time with a higher retryCount, all shuffled.
"""

from __future__ import annotations

import random
from collections import defaultdict

import pytest
import requests

from docusign_integration.envelopes.status import STATUS_RANK
from docusign_integration.models import ConnectEvent, Envelope
from docusign_sandbox import connect_delivery, envelope_state
from docusign_sandbox.models import ConnectDelivery, SandboxControl
from docusign_sandbox.models import Envelope as SandboxEnvelope
from tenants.models import AuditEvent
from tests import factories
from tests.connect.sandbox_world import acme, connect_configuration, delivery_request, draft_envelope, import_partner_keys

DISTINCT_MESSAGES = 840  # with 20% duplicates and the re-POSTed drops: over 1,000 deliveries


def _flush() -> None:
    # One thread at a time on the shared in-memory database: let the sender finish before the next change.
    assert connect_delivery.flush(30)


def _live_envelope(rng: random.Random) -> None:
    """One envelope taken along a random path of DocuSign's lifecycle, each step publishing its Connect messages."""
    envelope = draft_envelope(acme(), signers=rng.choice((1, 1, 2)), subject=f"Agreement {rng.randint(1, 10**6)}")
    envelope_state.send(envelope)
    _flush()
    path = rng.choice(("complete", "complete", "decline", "void", "stay-sent", "stay-delivered"))
    if path == "void":
        envelope_state.void(envelope, "Replaced by a new version")
        _flush()
        return
    for recipient in envelope.recipients.order_by("routing_order"):
        if path == "stay-sent":
            return
        envelope_state.deliver(recipient)
        _flush()
        if path == "stay-delivered":
            return
        if path == "decline":
            envelope_state.decline(recipient, "Not what we agreed")
            _flush()
            return
        envelope_state.sign(recipient)
        _flush()


@pytest.mark.django_db(transaction=True)
def test_every_envelope_ends_as_docusign_has_it_and_each_message_applies_once(sandbox, live_server, settings,
                                                                               eager_celery):
    settings.DOCUSIGN_SANDBOX_CONNECT_TIMEOUT = 10
    rng = random.Random(20260301)
    random.seed(20260301)  # the sandbox's drop decisions
    organization = factories.organization("Acme Corp", account_id=acme().account_id)
    import_partner_keys(sandbox.seed)
    connect_configuration(acme(), f"{live_server.url}/docusign/connect/")
    control = SandboxControl.get()
    control.connect_drop_percent = 10
    control.save()

    while ConnectDelivery.objects.count() < DISTINCT_MESSAGES:
        _live_envelope(rng)

    deliveries = list(ConnectDelivery.objects.select_related("account", "configuration"))
    dropped = [d for d in deliveries if d.status == ConnectDelivery.DROPPED]
    sent = [d for d in deliveries if d.status != ConnectDelivery.DROPPED]
    assert {d.status for d in sent} == {ConnectDelivery.DELIVERED}  # every sandbox POST was acknowledged
    late = [delivery_request(d, retry_count=0) for d in dropped]
    duplicates = [delivery_request(d, retry_count=rng.randint(1, 3)) for d in rng.sample(sent, len(deliveries) // 5)]
    redeliveries = late + duplicates
    rng.shuffle(redeliveries)
    with requests.Session() as session:
        answers = [session.post(f"{live_server.url}/docusign/connect/", data=body, headers=headers, timeout=10).status_code
                   for body, headers in redeliveries]
    assert set(answers) == {200}
    assert len(sent) + len(redeliveries) >= 1000
    assert len(dropped) >= 0.05 * len(deliveries)  # a real share arrived out of order

    # One stored event per DocuSign message, every one applied.
    assert ConnectEvent.objects.count() == len(deliveries)
    assert set(ConnectEvent.objects.values_list("state", flat=True)) == {"applied"}
    # Each envelope's final status is DocuSign's.
    truth = dict(SandboxEnvelope.objects.filter(account=acme()).values_list("envelope_id", "status"))
    assert dict(Envelope.objects.filter(organization=organization).values_list("envelope_id", "status")) == truth
    # No status was recorded twice or moved back: the audit trail only climbs the lifecycle.
    history: dict[str, list[str]] = defaultdict(list)
    for audit in AuditEvent.objects.filter(action="envelope.status_changed").order_by("pk"):
        history[audit.target.removeprefix("envelope ")].append(audit.after["status"])
    assert set(history) == set(truth)
    for statuses in history.values():
        ranks = [STATUS_RANK[s] for s in statuses]
        assert ranks == sorted(set(ranks))
