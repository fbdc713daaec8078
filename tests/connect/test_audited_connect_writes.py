"""Requeueing (replay) and the sweeper's quarantine are named services: atomic, audited, bad input changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from docusign_integration.connect.events import connect_event_replay, connect_event_store, connect_events_quarantine_stuck
from docusign_integration.connect.tasks import MAX_PROCESS_ATTEMPTS, sweep_connect_events
from docusign_integration.models import ConnectEvent
from tenants.models import AuditEvent
from tests import factories
from tests.connect.conftest import fixture_body

pytestmark = pytest.mark.django_db


def stored(organization, name: str = "envelope-delivered", **changes) -> ConnectEvent:
    body = fixture_body(name)
    event, _ = connect_event_store(environment="sandbox", account_id=organization.account_id, organization=organization,
                                   payload=json.loads(body), body=body)
    ConnectEvent.objects.filter(pk=event.pk).update(**changes)
    event.refresh_from_db()
    return event


def test_a_replay_of_a_quarantined_event_is_audited_with_its_actor_and_the_changed_fields(acme_organization):
    event = stored(acme_organization, state="quarantined", reason="Processing failed 5 times")
    staff = factories.isv_staff()

    assert connect_event_replay(event.pk, acting_user=staff, organization=acme_organization, quarantined=True) == "applied"

    row = AuditEvent.objects.get(action="connect_event.replay")
    assert (row.actor, row.organization) == (staff, acme_organization)
    assert row.before == {"state": "quarantined", "organization": acme_organization.pk,
                          "reason": "Processing failed 5 times"}
    assert row.after == {"state": "received", "organization": acme_organization.pk, "reason": ""}


def test_a_replay_that_may_not_take_the_event_changes_nothing_and_audits_nothing(acme_organization):
    event = stored(acme_organization, state="quarantined", reason="kept")

    assert connect_event_replay(event.pk, acting_user=None, organization=acme_organization) is None  # not allowed
    assert connect_event_replay(10**9, acting_user=None, organization=acme_organization) is None  # no such event

    event.refresh_from_db()
    assert (event.state, event.reason) == ("quarantined", "kept")
    assert not AuditEvent.objects.filter(action="connect_event.replay").exists()


def test_the_sweepers_quarantine_writes_one_audit_row_per_event(acme_organization):
    long_ago = timezone.now() - timedelta(minutes=5)
    stuck = stored(acme_organization, received_at=long_ago, attempts=MAX_PROCESS_ATTEMPTS)
    fresh = stored(acme_organization, "envelope-sent", received_at=long_ago, attempts=1)

    sweep_connect_events()

    stuck.refresh_from_db()
    assert stuck.state == "quarantined"
    [row] = AuditEvent.objects.filter(action="connect_event.quarantine")
    assert (row.actor, row.organization) == (None, acme_organization)
    assert str(stuck.pk) in row.target
    assert row.before == {"state": "received", "attempts": MAX_PROCESS_ATTEMPTS}
    assert row.after == {"state": "quarantined", "reason": stuck.reason}
    assert ConnectEvent.objects.get(pk=fresh.pk).state != "quarantined"


def test_a_quarantine_with_a_nonsense_limit_changes_nothing(acme_organization):
    event = stored(acme_organization, received_at=timezone.now() - timedelta(minutes=5), attempts=9)
    with pytest.raises(ValueError):
        connect_events_quarantine_stuck(acting_user=None, received_before=timezone.now(), max_attempts=0)
    event.refresh_from_db()
    assert event.state == "received"
    assert not AuditEvent.objects.filter(action="connect_event.quarantine").exists()
