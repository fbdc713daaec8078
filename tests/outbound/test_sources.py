"""Every source of an event records it in its own transaction: consent, a connection needing reconnection, setup drift."""

from __future__ import annotations

import pytest
from django.db import transaction

from docusign_integration.setup import account_setup
from docusign_integration.setup.models import SetupStatus
from outbound_events.models import OutboundEvent
from tenants import services

pytestmark = pytest.mark.django_db


def test_a_consent_status_change_is_one_consent_changed_event(organization):
    services.consent_record_result(acting_user=None, organization=organization, granted=True, scopes="signature")
    services.consent_record_result(acting_user=None, organization=organization, granted=True, scopes="signature")

    [event] = OutboundEvent.objects.filter(event_type="consent.changed")
    assert event.data["consent_status"] == "granted" and event.envelope_id == ""


def test_a_setup_that_drifts_is_one_setup_drifted_event(organization):
    for _ in range(2):
        account_setup._record(organization, acting_user=None, action="account_setup.check", status=SetupStatus.DRIFTED,
                              drift=["connect_configuration.events"])

    [event] = OutboundEvent.objects.filter(event_type="setup.drifted")
    assert event.data["drift"] == ["connect_configuration.events"]


def test_a_refused_refresh_is_a_connection_needs_reconnect_event(organization):
    from django.utils import timezone

    from docusign_integration.client.errors import InvalidGrant
    from docusign_integration.models import DocuSignCredential
    from docusign_integration.oauth import credentials
    from tests import factories

    credential = DocuSignCredential.objects.create(
        organization=organization, user=factories.user("admin-a"), environment="sandbox",
        docusign_user_id="a0000001-0000-4000-8000-000000000004", expires_at=timezone.now(),
        refresh_expires_at=timezone.now(), scopes="signature")
    with transaction.atomic():
        credentials._mark_needs_reconnect(credential, InvalidGrant("invalid_grant"))

    [event] = OutboundEvent.objects.filter(event_type="connection.needs_reconnect")
    assert event.data["connection"] == str(credential.pk)


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused(organization):
    from outbound_events import outbox

    with pytest.raises(RuntimeError, match="inside the transaction"):
        outbox.record("consent.changed", organization=organization)


def test_the_envelope_s_metadata_travels_with_its_events(organization):
    from types import SimpleNamespace

    from outbound_events import outbox

    envelope = SimpleNamespace(envelope_id="0a1b2c3d-4e5f-6789-abcd-ef0123456789", status="sent",
                               metadata={"order_id": "A-42"})
    with transaction.atomic():
        event = outbox.record("envelope.sent", organization=organization, envelope=envelope)
    assert event.data["metadata"] == {"order_id": "A-42"} and event.data["sequence"] == 1
