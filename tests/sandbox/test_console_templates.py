"""The console shows templates (roles, documents) and each envelope's custom fields and workflow pause."""

from __future__ import annotations

import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from docusign_sandbox import envelope_state
from docusign_sandbox.models import EnvelopeCustomField, Template, User
from tests.connect.sandbox_world import acme, draft_envelope

pytestmark = pytest.mark.django_db(transaction=True)


def _template(name: str) -> Template:
    account = acme()
    now = timezone.now()
    return Template.objects.create(
        account=account, owner=User.objects.filter(memberships__account=account).first(), name=name,
        created=now, last_modified=now, definition={
            "documents": [{"documentId": "1", "name": f"{name}.pdf"}],
            "recipients": {"signers": [{"recipientId": "1", "roleName": "Client", "routingOrder": "1"}],
                           "carbonCopies": [{"recipientId": "2", "roleName": "Legal", "routingOrder": "2"}]}})


def test_the_templates_page_lists_each_template_with_its_roles_and_documents_in_constant_queries(sandbox):
    _template("Lease")
    with CaptureQueriesContext(connection) as one:
        page = requests.get(f"{sandbox.url}/_sandbox/console/templates", timeout=10)
    _template("Order form")
    _template("NDA")
    with CaptureQueriesContext(connection) as three:
        requests.get(f"{sandbox.url}/_sandbox/console/templates", timeout=10)

    assert page.status_code == 200
    assert "Lease" in page.text and "Lease.pdf" in page.text
    assert "Client (signer, routing order 1)" in page.text and "Legal (carbon copy, routing order 2)" in page.text
    assert len(three.captured_queries) == len(one.captured_queries)


def test_the_envelopes_page_shows_custom_fields_and_a_paused_workflow(sandbox):
    envelope = draft_envelope(acme(), signers=2, subject="Lease")
    EnvelopeCustomField.objects.create(envelope=envelope, field_id="1", name="ClientRef", value="ACME-42")
    envelope.workflow = {"workflowStatus": "in_progress", "workflowSteps": [
        {"workflowStepId": "1", "action": "pause_before", "triggerOnItem": "routing_order", "itemId": "1",
         "status": "pending"}]}
    envelope.save()
    envelope_state.send(envelope)

    page = requests.get(f"{sandbox.url}/_sandbox/console/envelopes", timeout=10).text

    assert "ClientRef" in page and "ACME-42" in page
    assert "workflow paused before routing order 1" in page
