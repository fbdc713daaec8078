"""Outbound events delivered to a real receiver on loopback: signed, retried, in order per envelope, replayable."""

from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from standardwebhooks.webhooks import Webhook

from docusign_integration.envelopes.status import EnvelopeSummary, envelope_status_apply
from outbound_events import services
from outbound_events.models import Delivery, DeliveryAttempt, DeliveryState, OutboundEvent, WebhookEndpoint
from tenants.models import AuditEvent

pytestmark = pytest.mark.django_db


def apply(organization, envelope_id, status, minute, recipients=None, capture=None):
    summary = EnvelopeSummary(recipients=tuple(recipients)) if recipients is not None else None
    with capture(execute=True):
        envelope_status_apply(organization=organization, envelope_id=envelope_id, status=status,
                              changed_at=datetime(2026, 1, 1, 10, minute, tzinfo=UTC), source="connect", summary=summary)


def test_a_status_change_reaches_the_receiver_signed_so_the_standard_library_verifies_it(
        organization, endpoint, receiver, runner, django_capture_on_commit_callbacks):
    envelope_id = str(uuid.uuid4())
    apply(organization, envelope_id, "sent", 1, capture=django_capture_on_commit_callbacks)
    runner.run()

    [got] = receiver.delivered
    body = Webhook(endpoint.test_secret).verify(got.body, got.headers)
    assert body["type"] == "envelope.sent"
    assert body["data"] == {"organization": organization.slug, "envelope_id": envelope_id, "status": "sent",
                            "metadata": {}, "sequence": 1}
    assert got.headers["webhook-id"] == f"msg_{OutboundEvent.objects.get().id.hex}"
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "QUJD" * 8).verify(got.body, got.headers)
    assert Delivery.objects.get().state == DeliveryState.DELIVERED


def test_a_rolled_back_state_change_sends_nothing(organization, endpoint, receiver, runner):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        envelope_status_apply(organization=organization, envelope_id=str(uuid.uuid4()), status="sent",
                              changed_at=datetime(2026, 1, 1, tzinfo=UTC), source="connect")
        raise RuntimeError("the caller's transaction fails after the change")
    assert not OutboundEvent.objects.exists() and not Delivery.objects.exists()


def test_each_lifecycle_step_is_one_event_with_the_next_sequence_number(
        organization, endpoint, receiver, runner, django_capture_on_commit_callbacks):
    envelope_id = str(uuid.uuid4())
    signer = {"recipient_id": "1", "name": "Sam", "email": "s@example.com", "status": "sent", "client_user_id": ""}
    apply(organization, envelope_id, "sent", 1, [signer], capture=django_capture_on_commit_callbacks)
    apply(organization, envelope_id, "sent", 1, [signer], capture=django_capture_on_commit_callbacks)  # a redelivery
    apply(organization, envelope_id, "delivered", 2, capture=django_capture_on_commit_callbacks)
    apply(organization, envelope_id, "completed", 3, [{**signer, "status": "completed"}],
          capture=django_capture_on_commit_callbacks)
    runner.run()

    assert [(r.data["sequence"], r.headers["webhook-id"] and __import__("json").loads(r.body)["type"])
            for r in receiver.delivered] == [
        (1, "envelope.sent"), (2, "envelope.delivered"), (3, "recipient.completed"), (4, "envelope.completed")]
    assert receiver.delivered[2].data["recipient_id"] == "1"


@pytest.mark.parametrize("failure", [500, "hang", "drop", "refused"])
def test_a_failed_attempt_is_retried_with_backoff_and_logged(failure, organization, endpoint, receiver, runner,
                                                              django_capture_on_commit_callbacks, settings):
    settings.OUTBOUND_EVENTS_RETRY_BASE = 5
    if failure == "refused":
        with socket.socket() as probe:  # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        real_url = endpoint.url
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=f"http://127.0.0.1:{closed_port}/hooks")
    else:
        receiver.behave = lambda n, data: failure if n == 0 else 200
    receiver.hang_seconds = 1.5
    apply(organization, str(uuid.uuid4()), "sent", 1, capture=django_capture_on_commit_callbacks)
    first = runner.now
    delivery_id = Delivery.objects.get().pk
    assert runner.run(limit=1) == [(delivery_id, "retry")]
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.PENDING and delivery.attempts == 1
    assert 2.5 <= (delivery.next_attempt_at - first).total_seconds() <= 5  # base 5 s, jitter in [d/2, d]
    if failure == "refused":
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=real_url)
    runner.run()

    assert Delivery.objects.get().state == DeliveryState.DELIVERED
    assert len(receiver.delivered) == 1
    log = list(DeliveryAttempt.objects.order_by("attempted_at").values_list("status_code", "error"))
    expected_first = {500: (500, ""), "hang": (None, "read timeout"), "drop": (None, "connection dropped"),
                      "refused": (None, "connection refused")}[failure]
    assert log == [expected_first, (200, "")]
    assert "t0ken" not in str(list(DeliveryAttempt.objects.values())) and endpoint.test_secret not in str(
        list(DeliveryAttempt.objects.values()))


def test_order_per_envelope_is_kept_while_an_earlier_event_is_retried(
        organization, endpoint, receiver, runner, django_capture_on_commit_callbacks):
    first_envelope, other_envelope = str(uuid.uuid4()), str(uuid.uuid4())
    failures = [500, 500]  # the first envelope's first event fails twice

    def behave(n, data):
        return failures.pop() if data["envelope_id"] == first_envelope and data["sequence"] == 1 and failures else 200

    receiver.behave = behave
    apply(organization, first_envelope, "sent", 1, capture=django_capture_on_commit_callbacks)
    apply(organization, first_envelope, "delivered", 2, capture=django_capture_on_commit_callbacks)
    apply(organization, first_envelope, "completed", 3, capture=django_capture_on_commit_callbacks)
    apply(organization, other_envelope, "sent", 4, capture=django_capture_on_commit_callbacks)
    runner.run()

    seen = [(r.data["envelope_id"], r.data["sequence"]) for r in receiver.delivered]
    assert [s for e, s in seen if e == first_envelope] == [1, 2, 3]
    # Another envelope does not wait for it: it arrived before the first envelope's retried event.
    assert seen.index((other_envelope, 1)) < seen.index((first_envelope, 1))
    assert ("waiting" in {outcome for _, outcome in runner.outcomes})


def test_after_the_retry_window_the_delivery_fails_the_endpoint_is_flagged_and_the_next_event_goes(
        organization, endpoint, receiver, runner, django_capture_on_commit_callbacks, settings):
    envelope_id = str(uuid.uuid4())
    receiver.behave = lambda n, data: 500 if data["sequence"] == 1 else 200
    apply(organization, envelope_id, "sent", 1, capture=django_capture_on_commit_callbacks)
    apply(organization, envelope_id, "delivered", 2, capture=django_capture_on_commit_callbacks)
    runner.run(limit=2)
    assert Delivery.objects.get(sequence=1).state == DeliveryState.PENDING
    runner.advance(days=3)
    runner.run()

    first, second = Delivery.objects.order_by("sequence")
    assert first.state == DeliveryState.FAILED and second.state == DeliveryState.DELIVERED
    assert WebhookEndpoint.objects.get().flagged_at is not None
    assert [r.data["sequence"] for r in receiver.delivered] == [2]


def test_an_endpoint_failing_for_five_days_is_disabled_and_staff_are_alerted(
        organization, endpoint, receiver, runner, django_capture_on_commit_callbacks, settings):
    settings.ADMINS = [("Ops", "ops@isv.example")]
    receiver.behave = lambda n, data: 500
    for day in range(6):
        apply(organization, str(uuid.uuid4()), "sent", day, capture=django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            runner.run(limit=1)
        assert WebhookEndpoint.objects.get().enabled == (day < 5), day
        runner.advance(days=1, seconds=1)

    disabled = WebhookEndpoint.objects.get()
    assert "failed since" in disabled.disabled_reason
    [alert] = mail.outbox
    assert "disabled" in alert.subject and "t0ken" not in alert.body
    assert AuditEvent.objects.filter(action="webhook_endpoint.disabled").count() == 1


def test_one_success_restarts_the_five_day_count(organization, endpoint, receiver, runner,
                                                  django_capture_on_commit_callbacks):
    receiver.behave = lambda n, data: 200 if n == 1 else 500
    for day in range(6):
        apply(organization, str(uuid.uuid4()), "sent", day, capture=django_capture_on_commit_callbacks)
        runner.run(limit=1)
        runner.advance(days=1, seconds=1)
    assert WebhookEndpoint.objects.get().enabled  # day 1 succeeded: failing since day 2, four days ago


def test_replay_sends_the_same_event_again_with_the_same_id(organization, endpoint, receiver, runner,
                                                            django_capture_on_commit_callbacks):
    envelope_id = str(uuid.uuid4())
    apply(organization, envelope_id, "sent", 1, capture=django_capture_on_commit_callbacks)
    apply(organization, envelope_id, "delivered", 2, capture=django_capture_on_commit_callbacks)
    runner.run()
    with django_capture_on_commit_callbacks(execute=True):
        queued = services.events_replay(acting_user=None, events=OutboundEvent.objects.all())
    runner.run()

    assert queued == 2
    ids = [r.headers["webhook-id"] for r in receiver.delivered]
    assert len(ids) == 4 and ids[:2] == ids[2:]
    assert [r.data["sequence"] for r in receiver.delivered] == [1, 2, 1, 2]


def test_a_rotated_secret_signs_alongside_the_old_one_until_the_overlap_ends(
        organization, endpoint, receiver, runner, django_capture_on_commit_callbacks):
    new_secret = services.endpoint_rotate_secret(acting_user=None, endpoint=endpoint, overlap=timedelta(hours=1))
    apply(organization, str(uuid.uuid4()), "sent", 1, capture=django_capture_on_commit_callbacks)
    runner.run()
    runner.advance(hours=2)
    apply(organization, str(uuid.uuid4()), "sent", 2, capture=django_capture_on_commit_callbacks)
    runner.run()

    during, after = receiver.delivered
    Webhook(endpoint.test_secret).verify(during.body, during.headers)  # the ISV's verifier before it switched
    Webhook(new_secret).verify(during.body, during.headers)  # and after
    assert signed_by(new_secret, after) and not signed_by(endpoint.test_secret, after)


def signed_by(secret, received):
    """Whether `secret` signed what arrived (by the library's own signing: the test clock is ahead of the real one)."""
    when = datetime.fromtimestamp(int(received.headers["webhook-timestamp"]), UTC)
    expected = Webhook(secret).sign(received.headers["webhook-id"], when, received.body)
    return expected in received.headers["webhook-signature"].split(" ")


def test_redirects_are_not_followed(organization, endpoint, receiver, runner, django_capture_on_commit_callbacks):
    receiver.behave = lambda n, data: 302 if n == 0 else 200
    apply(organization, str(uuid.uuid4()), "sent", 1, capture=django_capture_on_commit_callbacks)
    runner.run(limit=1)
    assert Delivery.objects.get().last_status_code == 302 and Delivery.objects.get().state == DeliveryState.PENDING


def test_the_connection_goes_to_the_checked_address_with_the_endpoint_s_host_name(
        organization, endpoint, receiver, runner, django_capture_on_commit_callbacks, monkeypatch):
    from outbound_events import addresses

    port = receiver.server.server_address[1]
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])  # a second lookup would rebind; there must be none
    monkeypatch.setattr(addresses, "resolve", lambda host, p: next(answers))
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=f"http://receiver.test:{port}/hooks")
    apply(organization, str(uuid.uuid4()), "sent", 1, capture=django_capture_on_commit_callbacks)
    runner.run()
    [got] = receiver.delivered
    assert got.headers["Host"] == f"receiver.test:{port}"


def test_a_refused_address_is_a_failed_attempt_and_nothing_is_sent(
        organization, endpoint, receiver, runner, django_capture_on_commit_callbacks, settings):
    settings.OUTBOUND_EVENTS_ALLOW_LOOPBACK = False  # production: the receiver on loopback is internal
    apply(organization, str(uuid.uuid4()), "sent", 1, capture=django_capture_on_commit_callbacks)
    runner.run(limit=1)
    assert receiver.count == 0
    assert Delivery.objects.get().last_error.startswith("refused:")


def test_an_endpoint_never_has_more_than_max_in_flight_deliveries(organization, endpoint, receiver, runner,
                                                                  django_capture_on_commit_callbacks):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(max_in_flight=1)
    apply(organization, str(uuid.uuid4()), "sent", 1, capture=django_capture_on_commit_callbacks)
    apply(organization, str(uuid.uuid4()), "sent", 2, capture=django_capture_on_commit_callbacks)
    busy, waiting = Delivery.objects.order_by("pk")
    runner.advance(seconds=5)  # both are due
    # Another worker is posting the first one right now.
    Delivery.objects.filter(pk=busy.pk).update(state=DeliveryState.DELIVERING, lease_until=runner.now + timedelta(minutes=1))
    from outbound_events import tasks

    assert tasks.deliver(waiting.pk) == "throttled"
    assert receiver.count == 0
    assert runner.queue and runner.queue[-1][0] == waiting.pk  # it tries again in a moment
    Delivery.objects.filter(pk=busy.pk).update(state=DeliveryState.DELIVERED)
    assert tasks.deliver(waiting.pk) == "delivered"


def test_a_dead_worker_s_delivery_is_swept_up_when_its_lease_runs_out(organization, endpoint, receiver, runner,
                                                                      django_capture_on_commit_callbacks, settings):
    from outbound_events import tasks

    apply(organization, str(uuid.uuid4()), "sent", 1, capture=django_capture_on_commit_callbacks)
    runner.queue.clear()  # the worker that took the message died: no message is left
    Delivery.objects.update(state=DeliveryState.DELIVERING, attempts=1, lease_until=runner.now + timedelta(seconds=30))
    assert tasks.sweep() == 0  # its lease still runs: nobody else may send it
    runner.advance(seconds=31 + settings.OUTBOUND_EVENTS_SWEEP_GRACE)
    assert tasks.sweep() == 1
    runner.run()
    assert Delivery.objects.get().state == DeliveryState.DELIVERED and len(receiver.delivered) == 1
