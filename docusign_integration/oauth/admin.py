"""Read-only admin for "Connect to DocuSign" connections: status and expiry, tokens masked to their last 4 characters.

Tokens cannot be added or edited here and are never searchable (docs/security.md TI-4); a connection is removed
by its admin's Disconnect button, which goes through `credentials.credential_disconnect`.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from docusign_integration.keys.encryption import masked
from docusign_integration.oauth.models.credentials import DocuSignCredential
from portal.admin_input import CheckedInputMixin


@admin.register(DocuSignCredential)
class DocuSignCredentialAdmin(CheckedInputMixin, admin.ModelAdmin):
    list_display = ("organization", "user", "docusign_email", "environment", "status", "expires_at", "refresh_expires_at")
    list_filter = ("status", "environment")
    list_select_related = ("organization", "user")
    # Only names and ids: never a token or ciphertext column.
    search_fields = ("organization__name", "organization__slug", "user__email", "docusign_email", "docusign_user_id")
    fields = ("organization", "user", "environment", "docusign_user_id", "docusign_email", "status", "last_error",
              "scopes", "expires_at", "refresh_expires_at", "refreshed_at", "access_token", "refresh_token", "accounts",
              "created", "updated")
    readonly_fields = fields

    @admin.display(description="Access token")
    def access_token(self, obj: DocuSignCredential) -> str:
        return masked(obj.access_token_ciphertext, obj.get_access_token)

    @admin.display(description="Refresh token")
    def refresh_token(self, obj: DocuSignCredential) -> str:
        return masked(obj.refresh_token_ciphertext, obj.get_refresh_token)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: DocuSignCredential | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: DocuSignCredential | None = None) -> bool:
        return False  # deleting must also remove the social-auth link: Disconnect does both
