"""A simulated day (docs/security.md BG-5): 500 envelopes on 3 accounts, a sweep per account every 20 minutes of DocuSign time.

The sandbox's clock starts a day in the past and is moved through `/_sandbox/clock`; each sweep is given that time.
Access tokens the sandbox considers expired are replaced through the 401 path, as they would be in production.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import requests
from django.utils import timezone

from docusign_integration.envelopes.sync import envelopes_sweep
from docusign_integration.models import Envelope
from docusign_sandbox import clock, envelope_state, limits
from docusign_sandbox.models import Account, Document, Recipient, RequestLog
from docusign_sandbox.models import Envelope as SandboxEnvelope
from tests.envelopes.conftest import SIMPLE_PDF, connected_organization

SWEEP_EVERY = timedelta(minutes=20)
HOURLY_BUDGET = 3000


def set_clock(sandbox, **body) -> None:
    requests.post(f"{sandbox.url}/_sandbox/clock", json=body, timeout=5).raise_for_status()


def sent_envelopes(account_ids: list[str], count: int) -> list[SandboxEnvelope]:
    """`count` envelopes sent to one signer each, spread over the accounts (bulk: the day is what is measured)."""
    now = clock.now()
    accounts = [Account.objects.get(account_id=a) for a in account_ids]
    SandboxEnvelope.objects.bulk_create([
        SandboxEnvelope(account=account, sender=account.memberships.first().user, email_subject=f"Agreement {n}",
                        status="sent", created_at=now, sent_at=now, status_changed_at=now, last_modified_at=now)
        for n, account in ((n, accounts[n % len(accounts)]) for n in range(count))])
    envelopes = list(SandboxEnvelope.objects.filter(email_subject__startswith="Agreement "))
    Document.objects.bulk_create([Document(envelope=e, document_id="1", name="Agreement.pdf", content=SIMPLE_PDF)
                                  for e in envelopes])
    Recipient.objects.bulk_create([Recipient(envelope=e, recipient_id="1", email=f"signer{e.pk}@client.example",
                                             name="Sam Signer", status="sent", sent_at=now) for e in envelopes])
    return envelopes


def move_some_envelopes(rng: random.Random, open_envelopes: list[SandboxEnvelope], count: int) -> None:
    """What signers do meanwhile: open, sign or decline a few envelopes."""
    for envelope in rng.sample(open_envelopes, min(count, len(open_envelopes))):
        envelope.refresh_from_db()
        signer = envelope.recipients.get()
        if envelope.status == "sent":
            envelope_state.deliver(signer)
        elif envelope.status == "delivered":
            (envelope_state.sign(signer) if rng.random() < 0.8 else envelope_state.decline(signer, "No"))
        envelope.refresh_from_db()
        if envelope.status not in ("sent", "delivered"):
            open_envelopes.remove(envelope)


def test_a_day_of_sweeps_keeps_every_status_exact_within_the_polling_rule_and_the_hourly_budget(sandbox):
    rng = random.Random(7)
    set_clock(sandbox, set=(timezone.now() - timedelta(days=1)).isoformat())
    organizations = [connected_organization(sandbox, key) for key in ("acme", "globex", "initech")]
    made = sent_envelopes([o.account_id for o in organizations], 500)
    open_envelopes = list(made)

    for _ in range(int(timedelta(days=1) / SWEEP_EVERY)):
        set_clock(sandbox, advance_seconds=SWEEP_EVERY.total_seconds())
        move_some_envelopes(rng, open_envelopes, count=10)
        for organization in organizations:
            envelopes_sweep(organization, now=clock.now())

    truth = dict(SandboxEnvelope.objects.values_list("envelope_id", "status"))
    assert dict(Envelope.objects.values_list("envelope_id", "status")) == truth
    assert Counter(truth.values())["completed"] > 100  # the day really moved envelopes along

    # The polling rule: no envelope's status was ever asked by id (so never twice within 15 minutes).
    gets = {e.envelope_id: limits.envelope_get_times(e.envelope_id) for e in made}
    intervals = [b - a for times in gets.values() for a, b in zip(times, times[1:], strict=False)]
    assert all(interval >= timedelta(minutes=15) for interval in intervals)
    assert not any(gets.values())

    per_account_hour = Counter((r.account_id, r.at.replace(minute=0, second=0, microsecond=0))
                               for r in RequestLog.objects.filter(path__startswith="/restapi/"))
    peak = max(per_account_hour.values())
    assert peak <= HOURLY_BUDGET
    print(f"simulated day: peak calls per account-hour {peak}, total {sum(per_account_hour.values())}")
