"""Staff's admin for the ISV API: keys per organization, allowed origins and frame ancestors, the template allow-list."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from docusign_integration.client import errors
from docusign_integration.envelopes.sending import SendingUnavailable
from portal.admin_input import CheckedInputMixin

from .keys import api_key_create, api_key_revoke, api_key_update
from .models import CachedTemplate, OrganizationAPIKey, OrganizationApiSettings
from .templates import template_allow, templates_refresh

# The package's own key model has no organization: the portal's keys are OrganizationAPIKey only.
admin.site.unregister(APIKey)


@admin.register(OrganizationAPIKey)
class OrganizationAPIKeyAdmin(CheckedInputMixin, APIKeyModelAdmin):
    list_display = ("prefix", "name", "organization", "created", "expiry_date", "_has_expired", "revoked")  # type: ignore[assignment]
    list_filter = ("revoked", "organization")  # type: ignore[assignment]
    list_select_related = ("organization",)
    search_fields = ("name", "prefix", "organization__name", "organization__slug")  # type: ignore[assignment]
    autocomplete_fields = ("organization",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # An issued key's organization never changes; revoking is final (the package refuses un-revoking).
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "organization") if obj is not None else fields

    def save_model(self, request: HttpRequest, obj: OrganizationAPIKey, form: Any = None,  # type: ignore[override]
                   change: bool = False) -> None:
        if not change:
            api_key, key = api_key_create(acting_user=request.user, organization=obj.organization,  # type: ignore[arg-type]
                                          name=obj.name, expiry_date=obj.expiry_date)
            obj.pk, obj.prefix = api_key.pk, api_key.prefix
            messages.warning(request, f"The API key {api_key.prefix} is: {key} (shown only now: store it as a secret).")
            return
        if obj.revoked and form is not None and "revoked" in form.changed_data:
            api_key_revoke(acting_user=request.user, api_key=obj)  # type: ignore[arg-type]
        if form is not None and (set(form.changed_data) & {"name", "expiry_date"}):
            api_key_update(acting_user=request.user, api_key=obj, name=obj.name,  # type: ignore[arg-type]
                           expiry_date=obj.expiry_date)


@admin.register(OrganizationApiSettings)
class OrganizationApiSettingsAdmin(CheckedInputMixin, admin.ModelAdmin):
    list_display = ("organization", "allowed_origins", "frame_ancestors")
    list_select_related = ("organization",)
    search_fields = ("organization__name", "organization__slug")
    autocomplete_fields = ("organization",)


@admin.register(CachedTemplate)
class CachedTemplateAdmin(CheckedInputMixin, admin.ModelAdmin):
    list_display = ("name", "template_id", "organization", "allowed", "refreshed_at")
    list_filter = ("allowed",)
    list_select_related = ("organization",)
    search_fields = ("name", "template_id", "organization__name", "organization__slug")
    readonly_fields = ("organization", "template_id", "name", "description", "roles", "allowed", "refreshed_at")
    actions = ("allow", "disallow", "refresh")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # templates come from DocuSign (refresh)

    @admin.action(description="Allow the client's API to send from these templates")
    def allow(self, request: HttpRequest, queryset: QuerySet[CachedTemplate]) -> None:
        for template in queryset.select_related("organization"):
            template_allow(acting_user=request.user, template=template, allowed=True)  # type: ignore[arg-type]

    @admin.action(description="Stop the client's API sending from these templates")
    def disallow(self, request: HttpRequest, queryset: QuerySet[CachedTemplate]) -> None:
        for template in queryset.select_related("organization"):
            template_allow(acting_user=request.user, template=template, allowed=False)  # type: ignore[arg-type]

    @admin.action(description="Refresh these organizations' template lists from DocuSign")
    def refresh(self, request: HttpRequest, queryset: QuerySet[CachedTemplate]) -> None:
        organizations = {t.organization_id: t.organization for t in queryset.select_related("organization")}
        for organization in organizations.values():
            try:
                templates_refresh(acting_user=request.user, organization=organization)  # type: ignore[arg-type]
            except (errors.DocuSignError, SendingUnavailable) as exc:
                messages.error(request, f"{organization.name}: {exc.user_message}")
