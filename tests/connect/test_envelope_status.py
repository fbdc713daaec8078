"""The envelope status state machine: forward only, final statuses stay, one audit event per real change."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from docusign_integration.envelopes.status import (
    EnvelopeSummary,
    SummaryError,
    envelope_completed,
    envelope_status_apply,
    merge_recipients,
)
from docusign_integration.models import Envelope
from tenants.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def organization():
    return factories.organization("Acme", account_id=str(uuid.uuid4()))


def apply(organization, envelope_id: str, status: str, minutes: int, **kwargs) -> bool:
    return envelope_status_apply(organization=organization, envelope_id=envelope_id, status=status,
                                 changed_at=T0 + timedelta(minutes=minutes), source=kwargs.pop("source", "connect"),
                                 **kwargs)


def status_audits(envelope_id: str) -> list[tuple[str, str]]:
    events = AuditEvent.objects.filter(action="envelope.status_changed", target=f"envelope {envelope_id}").order_by("pk")
    return [(e.before["status"], e.after["status"]) for e in events]


def test_it_moves_forward_and_records_each_change_once(organization):
    envelope_id = str(uuid.uuid4())
    assert apply(organization, envelope_id, "sent", 1)
    assert apply(organization, envelope_id, "delivered", 2)
    assert not apply(organization, envelope_id, "delivered", 2)  # the same news again
    assert apply(organization, envelope_id, "completed", 3)

    envelope = Envelope.objects.get(envelope_id=envelope_id)
    assert (envelope.status, envelope.created_via) == ("completed", "connect")
    assert (envelope.sent_at, envelope.delivered_at, envelope.completed_at) == (
        T0 + timedelta(minutes=1), T0 + timedelta(minutes=2), T0 + timedelta(minutes=3))
    assert status_audits(envelope_id) == [("created", "sent"), ("sent", "delivered"), ("delivered", "completed")]


def test_a_late_older_event_never_regresses_the_envelope(organization):
    envelope_id = str(uuid.uuid4())
    apply(organization, envelope_id, "completed", 5)
    assert not apply(organization, envelope_id, "sent", 1)
    assert not apply(organization, envelope_id, "delivered", 2)

    envelope = Envelope.objects.get(envelope_id=envelope_id)
    assert (envelope.status, envelope.status_changed_at) == ("completed", T0 + timedelta(minutes=5))
    assert status_audits(envelope_id) == [("created", "completed")]


def test_the_same_time_is_settled_by_the_lifecycle_order_not_arrival(organization):
    envelope_id = str(uuid.uuid4())
    apply(organization, envelope_id, "delivered", 1)
    assert not apply(organization, envelope_id, "sent", 1)
    assert Envelope.objects.get(envelope_id=envelope_id).status == "delivered"


@pytest.mark.parametrize("final", ["declined", "voided", "completed"])
def test_a_final_status_never_changes(organization, final):
    envelope_id = str(uuid.uuid4())
    apply(organization, envelope_id, "sent", 1)
    apply(organization, envelope_id, final, 2)
    for other in {"declined", "voided", "completed"} - {final}:
        assert not apply(organization, envelope_id, other, 3)
    assert Envelope.objects.get(envelope_id=envelope_id).status == final


def test_the_summary_fills_in_details_and_recipients_never_move_back(organization):
    envelope_id = str(uuid.uuid4())
    signed = {"signers": [{"recipientId": "1", "name": "Sam", "email": "sam@example.com", "status": "completed"},
                          {"recipientId": "2", "name": "Kim", "email": "kim@example.com", "status": "sent"}]}
    apply(organization, envelope_id, "sent", 2, summary=EnvelopeSummary.from_docusign({
        "emailSubject": "Please sign", "sender": {"email": "sender@example.com"}, "recipients": signed,
        "sentDateTime": "2026-03-01T09:02:00.1234567Z"}))
    older = {"signers": [{"recipientId": "1", "name": "Sam", "email": "sam@example.com", "status": "sent"}]}
    apply(organization, envelope_id, "sent", 1, summary=EnvelopeSummary.from_docusign({"recipients": older}))

    envelope = Envelope.objects.get(envelope_id=envelope_id)
    assert (envelope.subject, envelope.sender_email) == ("Please sign", "sender@example.com")
    assert envelope.sent_at == T0 + timedelta(minutes=2, microseconds=123456)
    assert [(r["recipient_id"], r["status"]) for r in envelope.recipients] == [("1", "completed"), ("2", "sent")]


def test_a_declined_recipient_stays_declined():
    known = [{"recipient_id": "1", "name": "Sam", "email": "s@example.com", "status": "declined", "client_user_id": ""}]
    incoming = [{"recipient_id": "1", "name": "Sam", "email": "s@example.com", "status": "completed", "client_user_id": ""}]
    assert merge_recipients(known, incoming)[0]["status"] == "declined"


@pytest.mark.parametrize("bad", [
    {"emailSubject": 7},
    {"sentDateTime": "yesterday"},
    {"sentDateTime": "2026-03-01T09:00:00"},  # no time zone
    {"recipients": {"signers": "everyone"}},
    {"recipients": {"signers": [{"name": "no id"}]}},
    {"recipients": {"signers": [{"recipientId": str(n)} for n in range(101)]}},
])
def test_an_unreadable_summary_is_refused_with_a_reason(bad):
    with pytest.raises(SummaryError):
        EnvelopeSummary.from_docusign(bad)


def test_completion_reaches_envelope_completed_once_after_commit(organization, completed_envelopes,
                                                                 django_capture_on_commit_callbacks):
    envelope_id = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=False) as pending:
        apply(organization, envelope_id, "completed", 1)
    assert completed_envelopes == []  # nothing before the commit
    for run in pending:
        run()
    with django_capture_on_commit_callbacks(execute=True):
        apply(organization, envelope_id, "completed", 1)  # the same news again: no second completion
    assert completed_envelopes == [envelope_id]


def test_envelope_completed_queues_the_signed_document_download(organization, monkeypatch):
    """Called directly (no registry): the download is queued whichever modules the process imported."""
    from docusign_integration.envelopes import tasks as tasks_envelopes

    queued: list[tuple] = []
    monkeypatch.setattr(tasks_envelopes.download_envelope_documents, "delay", lambda *args: queued.append(args))
    envelope = Envelope.objects.create(organization=organization, environment=organization.environment,
                                       envelope_id=str(uuid.uuid4()), status="completed")
    envelope_completed(envelope)  # the module's own function, imported before the autouse fixture replaced it
    assert queued == [(organization.pk, envelope.envelope_id)]
