"""Signed documents: download a completed envelope's combined PDF and certificate once, into the default storage.

Each file is streamed from DocuSign (`http.download`, so never more than DOCUSIGN_DOCUMENT_MAX_BYTES, default
200 MB, DocuSign's envelope limit) straight into storage under a deterministic, organization-prefixed key while its
SHA-256 is computed. A `SignedDocument` row per envelope and kind is claimed with a conditional update before the
download and holds a lease until it ends, so duplicate or concurrent tasks download nothing twice (docs/security.md BG-4);
a worker killed mid-download loses its lease; a redelivered task takes over (docs/security.md BG-3). A failed download leaves no
partial object behind (docs/security.md BI-5). Files are served only through scoped views; storage never gets a public URL.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from contextlib import closing
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.http import FileResponse
from django.utils import timezone

from docusign_integration.client import envelopes as esign_envelopes
from docusign_integration.client import errors
from docusign_integration.envelopes.models.documents import DocumentKind, DocumentState, SignedDocument
from docusign_integration.envelopes.models.envelopes import Envelope, EnvelopeStatus
from docusign_integration.envelopes.sending import SendingIdentity, system_user_identity
from outbound_events import outbox
from tenants import audit

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 200 * 1_048_576
# Failures that the same request cannot fix: the row is marked failed instead of being retried.
PERMANENT_ERRORS = (errors.BadResponse, errors.NotFound, errors.PermissionDenied, errors.NotAMember,
                    errors.InvalidIdentifier, errors.UntrustedHost)


class Outcome(StrEnum):
    STORED = "stored"  # downloaded now
    ALREADY_STORED = "already_stored"
    BUSY = "busy"  # another task holds the lease
    FAILED = "failed"  # permanently; see the row's last_error


def max_bytes() -> int:
    return int(getattr(settings, "DOCUSIGN_DOCUMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def lease_duration() -> timedelta:
    """As long as a task may live (Celery kills it at its time limit), so a live download never loses its lease."""
    return timedelta(seconds=settings.DOCUSIGN_DOWNLOAD_LEASE_SECONDS)


def storage_name(envelope: Envelope, kind: str) -> str:
    """The file's key: the organization first, so one prefix holds everything of one tenant."""
    return f"signed-documents/org-{envelope.organization_id}/{envelope.envelope_id}/{kind}.pdf"


class _HashingReader:
    """A read()-able view of a chunk iterator that counts and hashes what storage reads from it."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks, self._buffer = chunks, b""
        self.sha256, self.size = hashlib.sha256(), 0

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self.sha256.update(chunk)
            self.size += len(chunk)
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def documents_download(envelope: Envelope) -> dict[str, Outcome]:
    """Download the completed envelope's missing documents; each kind's outcome. DocuSign errors propagate.

    Nothing is downloaded for an envelope that is not completed.
    """
    if envelope.status != EnvelopeStatus.COMPLETED:
        return {}
    outcomes: dict[str, Outcome] = {}
    identity: SendingIdentity | None = None
    for kind in DocumentKind.values:
        row, _ = SignedDocument.objects.get_or_create(envelope=envelope, kind=kind)
        if row.state == DocumentState.STORED:
            outcomes[kind] = Outcome.ALREADY_STORED
            continue
        if row.state == DocumentState.FAILED:
            outcomes[kind] = Outcome.FAILED
            continue
        if not _claim(row):
            row.refresh_from_db()
            outcomes[kind] = Outcome.ALREADY_STORED if row.state == DocumentState.STORED else Outcome.BUSY
            continue
        identity = identity or system_user_identity(envelope.organization)
        outcomes[kind] = _download(identity, envelope, row)
    return outcomes


def _claim(row: SignedDocument) -> bool:
    """Take the row for this download: pending, or downloading under a lease that has run out (a dead worker's)."""
    now = timezone.now()
    return bool(SignedDocument.objects.filter(
        Q(state=DocumentState.PENDING) | Q(state=DocumentState.DOWNLOADING, lease_until__lt=now), pk=row.pk,
    ).update(state=DocumentState.DOWNLOADING, lease_until=now + lease_duration(), attempts=F("attempts") + 1))


def _download(identity: SendingIdentity, envelope: Envelope, row: SignedDocument) -> Outcome:
    name = storage_name(envelope, row.kind)
    cap = max_bytes()
    try:
        download = identity.call(lambda bearer: esign_envelopes.download_document(
            identity.ref, envelope.envelope_id, row.kind, bearer=bearer, max_bytes=cap))
        with closing(download):
            reader = _HashingReader(iter(download))
            default_storage.delete(name)  # what a worker killed mid-download left behind: the key must stay the same
            # File needs only read() of its object (and `size`, which the reader keeps); the stubs ask for a whole IO.
            saved = default_storage.save(name, File(reader, name=name))  # type: ignore[arg-type]
    except errors.DocuSignError as exc:
        default_storage.delete(name)
        permanent = isinstance(exc, PERMANENT_ERRORS)
        SignedDocument.objects.filter(pk=row.pk).update(
            state=DocumentState.FAILED if permanent else DocumentState.PENDING, lease_until=None,
            last_error=exc.user_message[:500])
        logger.warning("document_download_failed envelope=%s kind=%s error_code=%s permanent=%s",
                       envelope.envelope_id, row.kind, exc.error_code, permanent)
        if permanent:
            return Outcome.FAILED
        raise
    except BaseException:
        default_storage.delete(name)
        SignedDocument.objects.filter(pk=row.pk).update(state=DocumentState.PENDING, lease_until=None)
        raise
    with transaction.atomic():
        SignedDocument.objects.filter(pk=row.pk).update(
            state=DocumentState.STORED, storage_name=saved, size=reader.size, sha256=reader.sha256.hexdigest(),
            downloaded_at=timezone.now(), lease_until=None, last_error="")
        stored = SignedDocument.objects.filter(envelope=envelope, state=DocumentState.STORED)  # asked under the outbox's lock
        outbox.record("documents.ready", organization=envelope.organization, envelope=envelope,
                      only_if=lambda: stored.count() == len(DocumentKind.values))
    logger.info("document_stored envelope=%s kind=%s size=%d", envelope.envelope_id, row.kind, reader.size)
    return Outcome.STORED


def documents_retry_failed(*, acting_user: User | None, envelopes: Iterable[Envelope]) -> int:
    """Make the permanently failed documents of completed `envelopes` downloadable again (pending); return how many.

    For staff who fixed the cause (raised DOCUSIGN_DOCUMENT_MAX_BYTES, restored access); one audit row per document
    ("signed_document.retry"). An envelope that is not completed raises ValidationError and nothing changes.
    """
    envelopes = list(envelopes)
    not_completed = [e.envelope_id for e in envelopes if e.status != EnvelopeStatus.COMPLETED]
    if not_completed:
        raise ValidationError(f"Only a completed envelope has signed documents to retry: {', '.join(not_completed)}.")
    with transaction.atomic():
        failed = list(SignedDocument.objects.select_for_update(of=("self",)).select_related("envelope__organization")
                      .filter(envelope__in=envelopes, state=DocumentState.FAILED).order_by("pk"))
        SignedDocument.objects.filter(pk__in=[row.pk for row in failed]).update(state=DocumentState.PENDING, last_error="")
        for row in failed:
            audit.record(actor=acting_user, action="signed_document.retry", organization=row.envelope.organization,
                         target=row, before={"state": row.state, "last_error": row.last_error},
                         after={"state": DocumentState.PENDING, "last_error": ""})
    return len(failed)


def stored_document(organization_id: int, envelope_id: str, kind: str) -> SignedDocument | None:
    """The stored document of the organization's envelope, or None (another organization's gets None too)."""
    return (SignedDocument.objects.select_related("envelope")
            .filter(envelope__organization_id=organization_id, envelope__envelope_id=envelope_id, kind=kind,
                    state=DocumentState.STORED).first())


def document_response(document: SignedDocument) -> FileResponse:
    """Stream a stored signed document as a private download (there is never a public URL)."""
    response = FileResponse(default_storage.open(document.storage_name, "rb"), as_attachment=True,
                            filename=document.filename, content_type="application/pdf")
    response["Cache-Control"] = "private, no-store"
    return response
