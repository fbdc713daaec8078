"""The metrics output has the same series at 3 and at 300 client organizations (docs/operations.md section 10): no label
carries an organization, account or envelope id, and per-account state is a count."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from background.models import FailedTask
from docusign_integration.client import errors, http
from docusign_integration.connect.hmac import connect_hmac_key_add
from docusign_integration.models import AccountRateLimit
from outbound_events import outbox, services
from tests import factories
from tests.connect.conftest import PARTNER_SECRET, fixture_body, signed_headers


def grow_to(count: int, client, sandbox, made: list[str]) -> None:
    """Organizations up to `count`, each with a Connect delivery, a DocuSign call, a near-limit account, a dead letter,
    and a webhook endpoint (every other one failing) with an event waiting for it."""
    template = json.loads(fixture_body("envelope-sent"))
    now = timezone.now()
    while len(made) < count:
        account_id = str(uuid.uuid4())
        organization = factories.organization(f"Client {len(made)}", account_id=account_id)
        envelope_id = str(uuid.uuid4())
        message = {**template, "data": {**template["data"], "accountId": account_id, "envelopeId": envelope_id,
                                        "envelopeSummary": {**template["data"]["envelopeSummary"], "envelopeId": envelope_id}}}
        body = json.dumps(message).encode()
        response = client.post("/docusign/connect/", data=body, content_type="application/json",
                               **signed_headers(body, PARTNER_SECRET, account_id=account_id))
        assert response.status_code == 200
        with pytest.raises(errors.DocuSignError):
            http.call("GET", f"{sandbox.url}/restapi/v2.1/accounts/{account_id}/envelopes/{envelope_id}",
                      environment="sandbox", account_id=account_id, bearer="not-a-token")
        AccountRateLimit.objects.update_or_create(environment="sandbox", account_id=account_id, defaults={
            "limit": 3000, "remaining": 120, "reset_at": now + timedelta(minutes=30)})
        FailedTask.objects.create(task_name="docusign_integration.tasks.check_consent_task", args=[organization.pk],
                                  call_digest=uuid.uuid4().hex, exception_class="errors.TransientError",
                                  first_failed_at=now, last_failed_at=now)
        endpoint, _ = services.endpoint_create(acting_user=None, organization=organization, url="http://127.0.0.1:9/hooks")
        if len(made) % 2:
            services.endpoint_update(acting_user=None, endpoint=endpoint, enabled=False)
        with transaction.atomic():  # the outbox writes in a state change's transaction; its delivery is never queued here
            outbox.record("consent.changed", organization=organization)
        made.append(account_id)


def test_the_same_series_at_3_and_at_300_organizations(client, sandbox, scrape, settings):
    settings.DOCUSIGN_CONNECT_KEY_CACHE_SECONDS = 0
    settings.OUTBOUND_EVENTS_ALLOW_LOOPBACK = True
    connect_hmac_key_add(acting_user=None, environment="sandbox", label="Partner key", secret=PARTNER_SECRET)
    made: list[str] = []

    grow_to(3, client, sandbox, made)
    at_3 = scrape()
    grow_to(300, client, sandbox, made)
    at_300 = scrape()

    assert at_300.series() == at_3.series()
    assert sorted(at_300.samples) == sorted(at_3.samples)  # the same series, not only as many
    assert at_3.value("portal_docusign_accounts_near_hourly_limit") == 3
    assert at_300.value("portal_docusign_accounts_near_hourly_limit") == 300
    assert at_300.value("portal_dead_letters_open") == 300
    # The outbound families are in both, as counts: an organization's events never add a series.
    assert at_300.value("portal_outbound_deliveries_pending") == 150  # the enabled endpoints' deliveries
    assert at_300.value("portal_outbound_endpoints_failing", state="disabled") == 150
    assert ("portal_outbound_deliveries_total", (("outcome", "delivered"),)) in at_300.samples
    assert not any(account_id in at_300.text for account_id in made)
