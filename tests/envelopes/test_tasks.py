"""The beat fan-out and the envelope-completed hook, with tasks running where they are queued."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from docusign_integration.envelopes.sync import envelopes_sweep
from docusign_integration.envelopes.tasks import sync_all_organizations
from docusign_integration.models import AccountSyncState, SignedDocument
from tests import factories
from tests.envelopes.conftest import api_requests, connected_organization, docusign_envelope


def test_beat_sweeps_organizations_with_consent_and_skips_those_waiting_for_a_rate_limit_reset(sandbox, eager_celery):
    acme, globex = connected_organization(sandbox, "acme"), connected_organization(sandbox, "globex")
    factories.organization("Not consented yet")
    AccountSyncState.objects.create(organization=globex, next_allowed_at=timezone.now() + timedelta(minutes=30))

    assert sync_all_organizations.apply().get() == 1

    assert AccountSyncState.objects.get(organization=acme).watermark is not None
    assert AccountSyncState.objects.get(organization=globex).watermark is None
    assert not api_requests(globex.account_id).exists()


def test_an_envelope_the_sweep_finds_completed_gets_its_documents_downloaded(sandbox, acme, eager_celery):
    docusign_envelope(acme.account_id, status="completed")

    envelopes_sweep(acme)

    assert sorted(SignedDocument.objects.filter(state="stored").values_list("kind", flat=True)) == ["certificate", "combined"]
