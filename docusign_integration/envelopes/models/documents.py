"""Signed documents of completed envelopes, kept in Django's default storage (product journey 7).

One row per envelope and kind, created before the download starts: the unique constraint and the claim on
`state` make a download happen once however often, or however concurrently, its task runs (docs/security.md BG-4).
"""

from __future__ import annotations

from django.db import models


class DocumentKind(models.TextChoices):
    COMBINED = "combined", "Signed documents (combined PDF)"
    CERTIFICATE = "certificate", "Certificate of completion"


class DocumentState(models.TextChoices):
    PENDING = "pending", "Waiting"
    DOWNLOADING = "downloading", "Downloading"
    STORED = "stored", "Stored"
    FAILED = "failed", "Failed"


class SignedDocument(models.Model):
    """One downloaded file of a completed envelope: where it is stored, its size and SHA-256."""

    envelope = models.ForeignKey("docusign_integration.Envelope", on_delete=models.CASCADE, related_name="signed_documents")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    state = models.CharField(max_length=20, choices=DocumentState.choices, default=DocumentState.PENDING)
    storage_name = models.CharField(max_length=300, blank=True, help_text="The key in the default storage (org-prefixed).")
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)
    # A download in progress holds the row until this time; a worker killed mid-download loses it then.
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["envelope", "kind"], name="docusign_one_document_per_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.envelope_id} ({self.state})"

    @property
    def filename(self) -> str:
        """The name offered to whoever downloads it."""
        return f"{self.kind}-{self.envelope.envelope_id}.pdf"
