"""An older Connect message changes nothing: subject, recipients' names, emails and clientUserId are merged only from
a message at least as new as the stored `status_changed_at` (DocuSign does not order Connect deliveries, security
docs/security.md WH-5). And no Connect message, older or newer, ever binds, rebinds or unbinds an embedded signer: the
binding is the portal's own record from when it created the envelope.

Messages are the real sample payloads of tests/fixtures/connect/, re-serialized where a field is changed, signed
with a partner HMAC key and posted to the listener.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, TestCase

from docusign_integration.connect.hmac import connect_hmac_key_add, forget_cached_keys
from docusign_integration.envelopes.status import parse_docusign_datetime
from docusign_integration.models import ConnectEvent, Envelope
from docusign_sandbox.models import ViewToken
from docusign_sandbox.seed import ACME
from tenants.models import MembershipRole
from tests import factories
from tests.connect.conftest import PARTNER_SECRET, URL, fixture_body, signed_headers
from tests.envelopes.conftest import api_requests
from tests.envelopes.test_embedded_signer_binding import (
    RECIPIENT_VIEWS,
    embedded,
    member,
    send_from_the_portal,
    sign_url,
    signed_in,
)

ENVELOPE_ID = "8e766092-a5fb-48ad-9630-5e0c6b13da1d"  # the samples' envelope


def message(name: str, *, envelope_id: str | None = None, status_changed_by: timedelta | None = None,
            subject: str | None = None, signer: dict[str, Any] | None = None) -> bytes:
    """A sample payload, with its envelope, statusChangedDateTime (moved by `status_changed_by`), subject or first
    signer's fields changed."""
    body = fixture_body(name)
    if envelope_id is None and status_changed_by is None and subject is None and signer is None:
        return body  # the exact bytes DocuSign sent
    payload = json.loads(body)
    summary = payload["data"]["envelopeSummary"]
    if envelope_id is not None:
        payload["data"]["envelopeId"] = summary["envelopeId"] = envelope_id
    if status_changed_by is not None:
        changed = parse_docusign_datetime(summary["statusChangedDateTime"]) + status_changed_by
        summary["statusChangedDateTime"] = changed.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        payload["generatedDateTime"] = summary["statusChangedDateTime"]
    if subject is not None:
        summary["emailSubject"] = subject
    if signer is not None:
        summary["recipients"]["signers"][0].update(signer)
    return json.dumps(payload).encode()


def deliver(body: bytes) -> None:
    # A non-transactional test never commits: run what the listener queued on commit, as a real commit would.
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = Client().post(URL, data=body, content_type="application/json",
                                 **signed_headers(body, PARTNER_SECRET, account_id=ACME.account_id))
    assert response.status_code == 200


def details(envelope: Envelope) -> tuple:
    return envelope.subject, [(r["recipient_id"], r["name"], r["email"], r["client_user_id"], r["status"])
                              for r in envelope.recipients]


@pytest.fixture
def partner_key(db, settings, eager_celery):
    settings.DOCUSIGN_CONNECT_KEY_CACHE_SECONDS = 0
    forget_cached_keys()
    return connect_hmac_key_add(acting_user=None, environment="sandbox", label="Partner key 1", secret=PARTNER_SECRET)


OLDER_AND_DIFFERENT = {"subject": "Old subject", "signer": {"name": "Old Name", "email": "old@client.example",
                                                            "clientUserId": "chosen-by-whoever-sent-it"}}


@pytest.mark.django_db
def test_an_older_message_changes_neither_the_subject_nor_any_recipient_s_details(partner_key):
    factories.organization("Acme Corp", account_id=ACME.account_id)
    deliver(message("envelope-delivered"))
    newer = details(Envelope.objects.get())

    deliver(message("envelope-sent", **OLDER_AND_DIFFERENT))

    assert details(Envelope.objects.get()) == newer == (
        "Services agreement", [("1", "Signer 1", "signer1@example.com", "", "delivered")])
    assert list(ConnectEvent.objects.values_list("state", flat=True)) == ["applied", "applied"]


@pytest.mark.django_db
def test_a_message_at_least_as_new_as_the_stored_status_updates_them(partner_key):
    """The other side of the rule: arrival order does not matter, DocuSign's times do (equal times count as new)."""
    factories.organization("Acme Corp", account_id=ACME.account_id)
    deliver(message("envelope-sent", **OLDER_AND_DIFFERENT))
    assert details(Envelope.objects.get())[0] == "Old subject"

    deliver(message("envelope-delivered"))
    assert details(Envelope.objects.get()) == (
        "Services agreement", [("1", "Signer 1", "signer1@example.com", "chosen-by-whoever-sent-it", "delivered")])
    # recipient-completed carries the envelope's unchanged statusChangedDateTime: as new as the stored one.
    deliver(message("recipient-completed", subject="Services agreement v2", signer={"name": "Signer One"}))
    assert details(Envelope.objects.get()) == (
        "Services agreement v2", [("1", "Signer One", "signer1@example.com", "chosen-by-whoever-sent-it", "completed")])


@pytest.mark.django_db
def test_an_older_message_adds_no_recipient_the_newer_one_did_not_list(partner_key):
    factories.organization("Acme Corp", account_id=ACME.account_id)
    deliver(message("envelope-delivered"))
    older = json.loads(message("envelope-sent"))
    older["data"]["envelopeSummary"]["recipients"]["signers"].append(
        {"recipientId": "2", "name": "Removed Since", "email": "removed@client.example", "status": "sent"})

    deliver(json.dumps(older).encode())

    assert [r["recipient_id"] for r in Envelope.objects.get().recipients] == ["1"]


def test_no_connect_message_rebinds_or_unbinds_an_embedded_signer(sandbox, acme, partner_key):
    sender, bob = member("ana-admin", acme, MembershipRole.ADMIN), member("bob", acme)
    carol = member("carol", acme)
    envelope = send_from_the_portal(sender, acme, embedded(bob))
    bound_client_user_id = envelope.embedded_signers.get().client_user_id
    assert envelope.recipients[0]["client_user_id"] == bound_client_user_id

    # A newer message naming another clientUserId, and an older one naming Carol's: neither moves the binding.
    deliver(message("envelope-delivered", envelope_id=envelope.envelope_id, status_changed_by=timedelta(days=400),
                    signer={"name": "bob", "email": bob.email, "clientUserId": "another-client-user-id"}))
    deliver(message("envelope-sent", envelope_id=envelope.envelope_id, status_changed_by=timedelta(days=-400),
                    signer={"name": "carol", "email": carol.email, "clientUserId": ""}))

    binding = envelope.embedded_signers.get()
    assert (binding.recipient_id, binding.client_user_id, binding.portal_user) == ("1", bound_client_user_id, bob)
    assert signed_in(carol).post(sign_url(envelope)).status_code == 404
    assert api_requests(RECIPIENT_VIEWS).count() == 0
    assert signed_in(bob).post(sign_url(envelope)).status_code == 302
    assert ViewToken.objects.get(kind="recipient").recipient.client_user_id == bound_client_user_id


def test_an_envelope_first_heard_of_through_connect_has_no_embedded_signer_anyone_may_sign(sandbox, acme, partner_key):
    bob = member("bob", acme)
    deliver(message("envelope-delivered", signer={"name": "bob", "email": bob.email, "clientUserId": str(bob.pk)}))
    envelope = Envelope.objects.get(envelope_id=ENVELOPE_ID)

    assert envelope.recipients[0]["client_user_id"] == str(bob.pk) and not envelope.embedded_signers.exists()
    assert signed_in(bob).post(sign_url(envelope)).status_code == 404
    assert api_requests(RECIPIENT_VIEWS).count() == 0
