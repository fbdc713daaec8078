"""Download the signed documents of completed envelopes that do not have them stored yet."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from docusign_integration.client import errors
from docusign_integration.envelopes import documents
from docusign_integration.envelopes.models.documents import DocumentKind, DocumentState
from docusign_integration.envelopes.models.envelopes import Envelope, EnvelopeStatus


class Command(BaseCommand):
    help = ("Download the combined PDF and the certificate of completed envelopes whose documents are not stored. "
            "Documents another worker is downloading are left to it; --retry-failed tries failed ones (e.g. after "
            "raising DOCUSIGN_DOCUMENT_MAX_BYTES) again.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", nargs="+", metavar="SLUG", help="only these organizations")
        parser.add_argument("--retry-failed", action="store_true", help="try documents that failed permanently again")
        parser.add_argument("--dry-run", action="store_true", help="list what would be downloaded")

    def handle(self, *args: Any, org: list[str] | None, retry_failed: bool, dry_run: bool, **options: Any) -> None:
        envelopes = (Envelope.objects.filter(status=EnvelopeStatus.COMPLETED).select_related("organization")
                     .order_by("organization__slug", "completed_at"))
        if org:
            envelopes = envelopes.filter(organization__slug__in=org)
        stored: dict[str, set[int]] = {kind: set() for kind in DocumentKind.values}
        for envelope_pk, kind in documents.SignedDocument.objects.filter(
                envelope__in=envelopes, state=DocumentState.STORED).values_list("envelope_id", "kind"):
            stored[kind].add(envelope_pk)
        todo = [e for e in envelopes if any(e.pk not in stored[kind] for kind in DocumentKind.values)]
        if retry_failed and not dry_run:
            documents.documents_retry_failed(acting_user=None, envelopes=todo)
        outcomes: dict[str, int] = {}
        for number, envelope in enumerate(todo, start=1):
            label = f"[{number}/{len(todo)}] {envelope.organization.slug} {envelope.envelope_id}"
            if dry_run:
                self.stdout.write(f"{label}: would download")
                continue
            try:
                result = documents.documents_download(envelope)
            except errors.DocuSignError as exc:
                outcomes["error"] = outcomes.get("error", 0) + 1
                self.stderr.write(f"{label}: {exc.user_message}")
                continue
            for outcome in result.values():
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            self.stdout.write(f"{label}: " + ", ".join(f"{kind} {outcome}" for kind, outcome in result.items()))
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items())) or "nothing done"
        self.stdout.write(f"{len(todo)} envelopes {'to download' if dry_run else 'processed'}: {summary}.")
