"""Signed documents: stored once with their SHA-256, capped, no partial objects, and never for another organization."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from docusign_integration.envelopes.documents import Outcome, documents_download, storage_name
from docusign_integration.envelopes.sync import envelopes_sweep
from docusign_integration.envelopes.tasks import download_envelope_documents
from docusign_integration.models import Envelope, SignedDocument
from docusign_sandbox.documents import certificate_pdf, combined_pdf
from tests.envelopes.conftest import add_fault, api_requests, docusign_envelope

DOCUMENTS = r"/documents/"


def completed_envelope(organization) -> tuple[Envelope, object]:
    in_docusign = docusign_envelope(organization.account_id, status="completed")
    envelopes_sweep(organization)  # the completion hook queues a download on the (unconsumed) memory broker
    return Envelope.objects.get(envelope_id=in_docusign.envelope_id), in_docusign


def test_a_completed_envelope_s_documents_are_stored_with_docusign_s_bytes_and_sha256(sandbox, acme):
    envelope, in_docusign = completed_envelope(acme)

    assert documents_download(envelope) == {"combined": Outcome.STORED, "certificate": Outcome.STORED}

    for kind, expected in (("combined", combined_pdf(in_docusign, False)), ("certificate", certificate_pdf(in_docusign))):
        row = SignedDocument.objects.get(envelope=envelope, kind=kind)
        assert row.state == "stored" and row.size == len(expected)
        assert row.sha256 == hashlib.sha256(expected).hexdigest()
        assert row.storage_name == storage_name(envelope, kind)
        assert row.storage_name.startswith(f"signed-documents/org-{acme.pk}/")
        with default_storage.open(row.storage_name, "rb") as stored:
            assert stored.read() == expected


def test_running_the_download_task_twice_downloads_each_document_once(sandbox, acme):
    envelope, _ = completed_envelope(acme)

    for _ in range(2):
        download_envelope_documents.apply(args=[acme.pk, envelope.envelope_id])

    assert api_requests(DOCUMENTS).count() == 2  # combined and certificate, once each
    assert SignedDocument.objects.filter(envelope=envelope, state="stored").count() == 2


def test_a_download_held_by_another_worker_is_left_to_it(sandbox, acme):
    envelope, _ = completed_envelope(acme)
    for kind in ("combined", "certificate"):  # another worker claimed both moments ago
        SignedDocument.objects.create(envelope=envelope, kind=kind, state="downloading",
                                      lease_until=timezone.now() + timedelta(minutes=5))

    assert documents_download(envelope) == {"combined": Outcome.BUSY, "certificate": Outcome.BUSY}
    assert not api_requests(DOCUMENTS).exists()


def test_a_lease_left_by_a_dead_worker_is_taken_over_and_its_partial_file_replaced(sandbox, acme):
    envelope, in_docusign = completed_envelope(acme)
    name = storage_name(envelope, "combined")
    default_storage.save(name, ContentFile(b"%PDF-1.4 half of a fi"))
    SignedDocument.objects.create(envelope=envelope, kind="combined", state="downloading",
                                  lease_until=timezone.now() - timedelta(seconds=1))

    assert documents_download(envelope)["combined"] == Outcome.STORED
    with default_storage.open(name, "rb") as stored:
        assert stored.read() == combined_pdf(in_docusign, False)


def test_a_document_above_the_size_cap_is_refused_with_nothing_stored_and_no_retry(sandbox, acme, settings):
    settings.DOCUSIGN_DOCUMENT_MAX_BYTES = 200
    envelope, _ = completed_envelope(acme)

    assert documents_download(envelope) == {"combined": Outcome.FAILED, "certificate": Outcome.FAILED}

    assert not default_storage.exists(storage_name(envelope, "combined"))
    row = SignedDocument.objects.get(envelope=envelope, kind="combined")
    assert row.state == "failed" and "larger than" in row.last_error
    calls = api_requests(DOCUMENTS).count()
    assert documents_download(envelope)["combined"] == Outcome.FAILED and api_requests(DOCUMENTS).count() == calls


def test_a_connection_dropped_during_the_download_leaves_no_partial_file_and_the_retry_stores_it(sandbox, acme, fast_http):
    envelope, in_docusign = completed_envelope(acme)
    add_fault(sandbox, r"/documents/combined$", "drop", count=4)  # every try of one task run, and one more

    # apply() runs here; the retry after the first run's three failed tries runs here too.
    download_envelope_documents.apply(args=[acme.pk, envelope.envelope_id])

    row = SignedDocument.objects.get(envelope=envelope, kind="combined")
    assert row.state == "stored" and row.sha256 == hashlib.sha256(combined_pdf(in_docusign, False)).hexdigest()
    assert list(api_requests(r"/documents/combined$").values_list("status", flat=True)) == [0, 0, 0, 0, 200]


def test_the_task_refuses_an_envelope_of_another_organization_without_calling_docusign(sandbox, acme, globex):
    theirs, _ = completed_envelope(globex)
    calls = api_requests().count()

    download_envelope_documents.apply(args=[acme.pk, theirs.envelope_id])

    assert api_requests().count() == calls
    assert not SignedDocument.objects.exists()


def test_documents_ready_is_recorded_once_when_both_documents_are_stored(sandbox, acme):
    from outbound_events.models import OutboundEvent

    envelope, _ = completed_envelope(acme)
    ready = OutboundEvent.objects.filter(event_type="documents.ready", envelope_id=envelope.envelope_id)
    documents_download(envelope)
    documents_download(envelope)  # a second run stores nothing new: no second event

    [event] = ready
    assert event.data["status"] == "completed" and event.data["envelope_id"] == envelope.envelope_id
    assert OutboundEvent.objects.filter(envelope_id=envelope.envelope_id, event_type="envelope.completed").exists()
