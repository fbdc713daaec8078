"""Admin for envelopes and their signed documents: read-only, status badges, downloads through a staff-only view.

Rows change only through `envelope_status_apply` and the downloads, so staff look and never edit. A stored document
is streamed by `signed_document_download` (admin_view, needs the view permission on signed documents); storage never
gets a public URL.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html

from docusign_integration.envelopes import documents
from docusign_integration.envelopes.models.documents import DocumentState, SignedDocument
from docusign_integration.envelopes.models.envelopes import Envelope, EnvelopeStatus
from docusign_integration.envelopes.models.sync import AccountSyncState
from portal.admin_input import CheckedInputMixin
from portal.badges import BADGE_MEDIA, badge

# badge-* classes of static/admin_badges.css (CSP: style-src 'self', so never a style attribute).
STATUS_TONES: dict[str, str] = {
    EnvelopeStatus.CREATED: "neutral", EnvelopeStatus.SENT: "info", EnvelopeStatus.DELIVERED: "info",
    EnvelopeStatus.SIGNED: "info", EnvelopeStatus.COMPLETED: "ok", EnvelopeStatus.DECLINED: "error",
    EnvelopeStatus.VOIDED: "warning",
}
DOCUMENT_TONES: dict[str, str] = {DocumentState.PENDING: "neutral", DocumentState.DOWNLOADING: "info",
                  DocumentState.STORED: "ok", DocumentState.FAILED: "error"}


class ReadOnlyAdmin(CheckedInputMixin, admin.ModelAdmin):
    class Media:
        css = BADGE_MEDIA

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class SignedDocumentInline(admin.TabularInline):
    model = SignedDocument
    fields = ("kind", "state_badge", "size", "sha256", "downloaded_at", "download_link", "last_error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="State")
    def state_badge(self, obj: SignedDocument) -> str:
        return badge(obj.get_state_display(), DOCUMENT_TONES[obj.state])

    @admin.display(description="File")
    def download_link(self, obj: SignedDocument) -> str:
        return _download_link(obj)


def _download_link(obj: SignedDocument) -> str:
    if obj.state != DocumentState.STORED:
        return "—"
    url = reverse("admin:docusign_integration_signeddocument_download", args=[obj.pk])
    return format_html('<a href="{}">Download</a>', url)


@admin.register(Envelope)
class EnvelopeAdmin(ReadOnlyAdmin):
    list_display = ("subject", "organization", "status_badge", "status_changed_at", "created_via", "envelope_id")
    list_filter = ("status", "created_via", "environment")
    list_select_related = ("organization",)  # the organization column costs no query per row
    search_fields = ("envelope_id", "subject", "organization__name")
    date_hierarchy = "created"
    inlines = [SignedDocumentInline]
    fields = ("organization", "envelope_id", "environment", "subject", "status", "status_changed_at", "sent_at",
              "delivered_at", "completed_at", "declined_at", "voided_at", "voided_reason", "sender_email", "recipients",
              "created_via", "last_event_at", "created", "updated")
    readonly_fields = fields

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Envelope) -> str:
        return badge(obj.get_status_display(), STATUS_TONES[obj.status])


@admin.register(SignedDocument)
class SignedDocumentAdmin(ReadOnlyAdmin):
    list_display = ("envelope", "organization", "kind", "state_badge", "size", "downloaded_at", "download_link")
    list_filter = ("state", "kind")
    list_select_related = ("envelope__organization",)
    search_fields = ("envelope__envelope_id", "sha256", "envelope__organization__name")
    fields = ("envelope", "kind", "state", "storage_name", "size", "sha256", "downloaded_at", "attempts", "last_error")
    readonly_fields = fields

    @admin.display(description="Organization", ordering="envelope__organization__name")
    def organization(self, obj: SignedDocument) -> str:
        return str(obj.envelope.organization)

    @admin.display(description="State", ordering="state")
    def state_badge(self, obj: SignedDocument) -> str:
        return badge(obj.get_state_display(), DOCUMENT_TONES[obj.state])

    @admin.display(description="File")
    def download_link(self, obj: SignedDocument) -> str:
        return _download_link(obj)

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.signed_document_download)
        return [path("<int:pk>/download/", view, name="docusign_integration_signeddocument_download"), *super().get_urls()]

    def signed_document_download(self, request: HttpRequest, pk: int) -> FileResponse:
        """Stream a stored document to staff allowed to view signed documents."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        document = SignedDocument.objects.select_related("envelope").filter(pk=pk, state=DocumentState.STORED).first()
        if document is None:
            raise Http404
        return documents.document_response(document)


@admin.register(AccountSyncState)
class AccountSyncStateAdmin(ReadOnlyAdmin):
    list_display = ("organization", "watermark", "last_sweep_at", "last_sweep_calls", "last_sweep_changes",
                    "next_allowed_at", "last_error")
    list_select_related = ("organization",)
    search_fields = ("organization__name",)
