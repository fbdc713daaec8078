"""Connect events are processed again only from a state that allows it.

The states (docusign_integration/connect/events.py, tasks_connect.py, `replay_connect_events`):

- `received` -> `applied` or `quarantined`: processing (the listener's task, a requeued task, the sweeper, a replay).
- `received` -> `quarantined`: the sweeper parks an event whose processing kept failing.
- `quarantined` -> `received` -> ...: only `replay_connect_events --quarantined` (e.g. after the organization of an
  unknown account was created, or a client was reactivated).
- `applied` and `ignored` are final: nothing processes them again, whatever is requeued or replayed.

"Applied" is counted where it happens: each call of `envelope_status_apply` made for an event.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from docusign_integration.connect import events as connect_events
from docusign_integration.connect.events import connect_event_store
from docusign_integration.connect.models import ConnectEventState
from docusign_integration.connect.tasks import process_connect_event, process_connect_events, sweep_connect_events
from docusign_integration.models import ConnectEvent, Envelope
from docusign_sandbox.seed import ACME
from tests import factories
from tests.connect.conftest import fixture_body, with_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def applications(monkeypatch) -> list[str]:
    """The statuses applied to envelopes, one entry per application (what 'applied twice' would show)."""
    applied: list[str] = []
    original = connect_events.envelope_status_apply

    def counting(**kwargs):
        applied.append(kwargs["status"])
        return original(**kwargs)

    monkeypatch.setattr(connect_events, "envelope_status_apply", counting)
    return applied


def stored(organization, name: str, **changes) -> ConnectEvent:
    """A verified message stored as the listener stores it; its processing task never ran (the test never commits)."""
    body = with_payload(fixture_body(name), **changes) if changes else fixture_body(name)
    event, created = connect_event_store(environment="sandbox", account_id=ACME.account_id, organization=organization,
                                         payload=json.loads(body), body=body)
    assert created
    return event


def replay(*args: str) -> str:
    out = io.StringIO()
    call_command("replay_connect_events", *args, stdout=out)
    return out.getvalue()


def record(event: ConnectEvent) -> tuple:
    """What staff see of an event in the admin."""
    event.refresh_from_db()
    return event.state, event.reason, event.processed_at, event.organization_id


def swept_now(event: ConnectEvent) -> None:
    ConnectEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=2))


# --- applied and ignored are final ------------------------------------------------------------------------------


def test_an_applied_event_requeued_is_not_applied_again(acme_organization, applications, eager_celery):
    event = stored(acme_organization, "envelope-completed")
    assert process_connect_event.delay(event.pk).get() == "applied"
    after_first = record(event)

    assert process_connect_event.delay(event.pk).get() == "applied"
    assert process_connect_events.delay([event.pk]).get() == 1
    swept_now(event)
    assert sweep_connect_events() == 0

    assert applications == ["completed"]
    assert record(event) == after_first


@pytest.mark.parametrize("flags", [(), ("--quarantined",)], ids=["replay", "replay --quarantined"])
def test_a_replay_never_processes_applied_or_ignored_events(acme_organization, applications, eager_celery, flags):
    applied = stored(acme_organization, "envelope-completed")
    process_connect_event.delay(applied.pk)
    ignored = stored(acme_organization, "envelope-sent", event="template-modified")
    before = record(applied), record(ignored)

    output = replay(*flags)

    assert "Replayed 0 Connect message(s): nothing to do." in output
    assert applications == ["completed"]
    assert (record(applied), record(ignored)) == before
    assert ignored.state == ConnectEventState.IGNORED


# --- quarantined leaves only through an explicit replay --------------------------------------------------------


@pytest.fixture
def quarantined_unknown_account(applications) -> ConnectEvent:
    """A message for an account no organization had when it arrived; the organization exists now."""
    event = stored(None, "envelope-completed")
    assert event.state == ConnectEventState.QUARANTINED
    factories.organization("Acme Corp", account_id=ACME.account_id)
    return event


def test_a_quarantined_event_is_not_processed_by_a_requeued_task_or_the_sweeper(
        quarantined_unknown_account, applications, eager_celery):
    event = quarantined_unknown_account
    before = record(event)

    assert process_connect_event.delay(event.pk).get() == "quarantined"
    swept_now(event)
    assert sweep_connect_events() == 0

    assert applications == [] and not Envelope.objects.exists()
    assert record(event) == before


def test_a_replay_without_quarantined_leaves_quarantined_events_alone(quarantined_unknown_account, applications):
    before = record(quarantined_unknown_account)

    assert "nothing to do" in replay()

    assert applications == [] and record(quarantined_unknown_account) == before


def test_a_replay_with_quarantined_applies_them_once(quarantined_unknown_account, applications):
    assert "1 applied" in replay("--quarantined")
    assert "nothing to do" in replay("--quarantined")

    assert applications == ["completed"]
    assert record(quarantined_unknown_account)[0] == ConnectEventState.APPLIED


def test_a_replay_with_quarantined_requarantines_an_offboarded_clients_message(acme_organization, applications):
    event = stored(acme_organization, "envelope-completed")
    acme_organization.offboarded_at = timezone.now()
    acme_organization.save()
    assert connect_events.connect_event_process(event.pk) == ConnectEventState.QUARANTINED

    replay("--quarantined")

    assert applications == []
    event.refresh_from_db()
    assert event.state == ConnectEventState.QUARANTINED and "offboarded" in event.reason


# --- an event whose state changed after a replay listed it ------------------------------------------------------


@pytest.fixture
def while_the_replay_applies_the_first(monkeypatch):
    """Run `meanwhile()` once, as another process would, while the replay is applying its first listed event."""
    def arrange(meanwhile) -> None:
        original, done = connect_events.envelope_status_apply, []

        def with_other_process(**kwargs):
            if not done:
                done.append(True)
                meanwhile()
            return original(**kwargs)

        monkeypatch.setattr(connect_events, "envelope_status_apply", with_other_process)
    return arrange


def test_a_replay_does_not_apply_again_an_event_a_worker_applied_after_it_was_listed(
        acme_organization, applications, while_the_replay_applies_the_first):
    first = stored(acme_organization, "envelope-sent")
    second = stored(acme_organization, "envelope-completed")
    # The worker's task for the second event runs while the replay is busy with the first.
    while_the_replay_applies_the_first(lambda: connect_events.connect_event_process(second.pk))

    replay()

    # Applied once by the worker (first in the list), then the replay's first event; never the second again.
    assert applications == ["completed", "sent"]
    state, reason, *_ = record(second)
    assert (state, reason) == (ConnectEventState.APPLIED, "Status changed to completed.")
    assert record(first)[0] == ConnectEventState.APPLIED


def test_a_replay_without_quarantined_does_not_process_an_event_parked_after_it_was_listed(
        acme_organization, applications, while_the_replay_applies_the_first):
    stored(acme_organization, "envelope-sent")
    second = stored(acme_organization, "envelope-completed")
    parked = "Processing failed 5 times; see the worker's log."
    # The sweeper parks the second event (its processing kept failing) while the replay is busy with the first.
    while_the_replay_applies_the_first(lambda: ConnectEvent.objects.filter(pk=second.pk).update(
        state=ConnectEventState.QUARANTINED, reason=parked))

    replay()

    assert applications == ["sent"]
    assert record(second)[:2] == (ConnectEventState.QUARANTINED, parked)
