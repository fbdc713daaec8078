"""The polling sweep against the sandbox: statuses applied, watermark rules, tenant scoping, no per-envelope GETs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from docusign_integration.client import errors
from docusign_integration.envelopes.sync import envelopes_sweep, sync_state
from docusign_integration.models import Envelope
from docusign_sandbox import clock
from tests.envelopes.conftest import api_requests, docusign_envelope


def test_a_sweep_records_every_envelope_of_the_account_with_its_status_and_recipients(sandbox, acme):
    made = {status: docusign_envelope(acme.account_id, status=status)
            for status in ("created", "sent", "delivered", "completed", "declined", "voided")}

    result = envelopes_sweep(acme)

    assert result.complete and result.envelopes == 6 and result.calls == 1
    recorded = {e.envelope_id: e for e in Envelope.objects.filter(organization=acme)}
    assert {made[s].envelope_id: s for s in made} == {i: e.status for i, e in recorded.items()}
    completed = recorded[made["completed"].envelope_id]
    assert completed.created_via == "poll" and completed.completed_at is not None
    assert completed.recipients == [{"recipient_id": "1", "name": "Sam Signer", "email": "signer@client.example",
                                     "status": "completed", "client_user_id": ""}]
    # One list call; no envelope was ever asked about by id.
    assert [(r.method, r.path) for r in api_requests()] == [("GET", f"/restapi/v2.1/accounts/{acme.account_id}/envelopes")]


def test_the_next_sweep_reads_only_the_window_since_the_watermark_and_moves_it_forward(sandbox, acme):
    old = docusign_envelope(acme.account_id, status="sent")
    SandboxClock(sandbox).advance(minutes=30)
    first = envelopes_sweep(acme, now=clock.now())
    watermark = sync_state(acme).watermark
    assert first.envelopes == 1 and watermark is not None

    SandboxClock(sandbox).advance(minutes=20)
    newer = docusign_envelope(acme.account_id, status="completed")
    second = envelopes_sweep(acme, now=clock.now())

    assert second.envelopes == 1 and second.changes == 1  # the old envelope is outside the overlap now
    assert Envelope.objects.get(envelope_id=newer.envelope_id).status == "completed"
    assert Envelope.objects.get(envelope_id=old.envelope_id).status == "sent"
    assert sync_state(acme).watermark > watermark


def test_a_change_on_the_window_edge_is_read_again_and_applied_once(sandbox, acme):
    envelope = docusign_envelope(acme.account_id, status="sent")
    envelopes_sweep(acme, now=envelope.status_changed_at)  # the change is exactly on the window's end

    assert envelopes_sweep(acme, now=envelope.status_changed_at + timedelta(minutes=1)).envelopes == 1  # the overlap
    assert Envelope.objects.get(envelope_id=envelope.envelope_id).status == "sent"
    assert sync_state(acme).last_sweep_changes == 0  # read twice, applied once


def test_a_failed_sweep_keeps_the_watermark_and_says_why(sandbox, acme, fast_http):
    from tests.envelopes.conftest import add_fault

    docusign_envelope(acme.account_id, status="sent")
    add_fault(sandbox, r"/envelopes$", "503", count=3)  # every try of the one call

    with pytest.raises(errors.TransientError):
        envelopes_sweep(acme)

    state = sync_state(acme)
    assert state.watermark is None and "DocuSign" in state.last_error
    assert not Envelope.objects.exists()
    envelopes_sweep(acme)  # the fault is used up: the same window is read
    assert Envelope.objects.count() == 1 and sync_state(acme).last_error == ""


def test_a_sweep_touches_only_its_own_organizations_envelopes(sandbox, acme, globex):
    docusign_envelope(acme.account_id, status="sent")
    theirs = docusign_envelope(globex.account_id, status="completed")

    envelopes_sweep(acme)

    assert list(Envelope.objects.values_list("organization_id", flat=True)) == [acme.pk]
    assert not api_requests(globex.account_id).exists()
    assert not Envelope.objects.filter(envelope_id=theirs.envelope_id).exists()


class SandboxClock:
    """Moves the sandbox's clock through its control API, as a test of elapsed DocuSign time would."""

    def __init__(self, sandbox) -> None:
        self.sandbox = sandbox

    def advance(self, *, minutes: float) -> None:
        import requests

        response = requests.post(f"{self.sandbox.url}/_sandbox/clock", json={"advance_seconds": minutes * 60}, timeout=5)
        assert response.status_code == 200
