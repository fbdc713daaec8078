"""ISV staff's admin for client organizations, their system users and the audit log.

Every change goes through `tenants.services`; pages that need input are admin views added in `get_urls`
(see `pages.admin_views`). The changelist costs a constant number of queries (system user joined).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from docusign_integration.consent.tasks import enqueue_consent_checks
from docusign_integration.setup import admin as admin_setup
from pages import (
    admin_dashboard,
    admin_hosting,  # noqa: F401 - admin_hosting registers the ISV account's admin
    admin_views,
)
from pages.admin_org_page import organization_page_context
from portal.admin_input import CheckedInputMixin
from portal.badges import BADGE_MEDIA, badge
from portal.readable import readable
from tenants import services
from tenants.health import HealthFigures, Level, with_health
from tenants.models import AuditEvent, ClientOrganization, ConsentStatus, SystemUser
from tenants.users import signed_in_user

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

CONSENT_BADGE = {
    ConsentStatus.GRANTED: "ok", ConsentStatus.REQUIRED: "warning", ConsentStatus.REVOKED: "error",
    ConsentStatus.UNKNOWN: "neutral",
}
LEVEL_TONES = {Level.OK: "ok", Level.ATTENTION: "warning", Level.BROKEN: "error"}


class SystemUserInline(admin.StackedInline):
    model = SystemUser
    can_delete = False
    max_num = min_num = 1
    fields = ("user_id", "email", "consent_status", "consent_type", "scopes", "verified_at", "checked_at", "last_error",
              "last_error_code")
    # Consent fields only change through a consent check, never by hand.
    readonly_fields = fields[2:]


class OffboardedFilter(admin.SimpleListFilter):
    """Active clients, or the ones staff offboarded."""

    title = "client status"
    parameter_name = "offboarded"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("no", "Active"), ("yes", "Offboarded")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ClientOrganization]) -> QuerySet[ClientOrganization]:
        if self.value() in ("yes", "no"):
            return queryset.filter(offboarded_at__isnull=self.value() == "no")
        return queryset


@admin.register(ClientOrganization)
class ClientOrganizationAdmin(CheckedInputMixin, admin.ModelAdmin):
    # What staff scan for (name, consent, health, setup) fits 1280 px beside the filters; the environment is a
    # filter, and the account id and region are on the organization's page (the account id is searchable here).
    list_display = ("organization", "consent", "health", admin_setup.setup_status, admin_dashboard.health_link)
    list_display_links = ("organization",)
    list_filter = (OffboardedFilter, "environment", "hosting", "onboarding_status", "system_user__consent_status")
    search_fields = ("name", "slug", "=account_id")
    # consent and health read the system user, the setup badge its stored state: JOINs, not one query per row
    list_select_related = ("system_user", "account_setup")
    fields = ("name", "slug", "environment", "onboarding_status", "account_id", "account_name", "base_uri", "organization_id",
              "offboarded_at", "offboarding_reason", "created", "updated")
    readonly_fields = fields[1:]  # the name is the only thing staff edit here; the rest comes from DocuSign or services
    inlines = (SystemUserInline,)
    actions = ("check_consent", "show_consent_links", "send_invitation", admin_setup.setup_docusign_account,
               admin_setup.check_docusign_setup, "offboard", "reactivate")
    change_form_template = "admin/tenants/clientorganization/change_form.html"

    class Media:
        css = BADGE_MEDIA

    @admin.display(description="name", ordering="name")
    def organization(self, obj: ClientOrganization) -> str:
        # Cut with an ellipsis, whole on hover: a long name must not push the status columns off the page.
        return format_html('<span class="cut" title="{}">{}</span>', obj.name, obj.name)

    @admin.display(description="consent", ordering="system_user__consent_status")
    def consent(self, obj: ClientOrganization) -> str:
        system_user = getattr(obj, "system_user", None)
        status = ConsentStatus(system_user.consent_status if system_user else ConsentStatus.UNKNOWN)
        return badge(status.label, CONSENT_BADGE[status])

    @admin.display(description="base_uri host")
    def base_uri_host(self, obj: ClientOrganization) -> str:
        return urlsplit(obj.base_uri).netloc if obj.base_uri else "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ClientOrganization]:
        # The health column applies the dashboard's rules (tenants.health), computed inside the changelist's one query.
        return with_health(super().get_queryset(request))

    @admin.display(description="health", ordering="-health_level")
    def health(self, obj: WithAnnotations[ClientOrganization, HealthFigures]) -> str:
        if obj.offboarded_at is not None:  # nothing runs for it, so its last health is history, not a to-do
            return badge("Offboarded", "neutral", title=obj.offboarding_reason)
        level = Level(obj.health_level)
        return badge(level.label, LEVEL_TONES[level])

    # --- adding goes through organization_provision -------------------------------------------------
    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        return admin_views.provision(self, request)

    def save_model(self, request: HttpRequest, obj: ClientOrganization, form: Any, change: bool) -> None:
        services.organization_rename(acting_user=signed_in_user(request), organization=obj, name=obj.name)

    def delete_model(self, request: HttpRequest, obj: ClientOrganization) -> None:
        services.organization_delete(acting_user=signed_in_user(request), organization=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ClientOrganization]) -> None:
        for organization in queryset:
            services.organization_delete(acting_user=signed_in_user(request), organization=organization)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # The system user changes through its service, never `formset.save()`; the admin's change message reads
        # the three lists `formset.save()` would have set, so they are set here from what the service changed.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if inline_form.has_changed():
                system_user = services.system_user_update(
                    acting_user=signed_in_user(request), organization=form.instance,
                    user_id=inline_form.cleaned_data["user_id"], email=inline_form.cleaned_data["email"])
                formset.changed_objects.append((system_user, inline_form.changed_data))

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra = {**(extra_context or {})}
        organization = self.get_object(request, object_id)
        if organization is not None:
            extra["consent_links"] = admin_views.consent_links(organization)
            extra.update(organization_page_context(organization))
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:object_id>/consent-links/", wrap(lambda r, object_id: admin_views.consent_links_view(self, r, object_id)),
                 name="tenants_clientorganization_consent_links"),
            path("<int:object_id>/invite/", wrap(lambda r, object_id: admin_views.invite(self, r, object_id)),
                 name="tenants_clientorganization_invite"),
            path("<int:object_id>/invitations/<int:invitation_id>/<str:action>/",
                 wrap(lambda r, object_id, invitation_id, action: admin_views.invitation_action(
                     self, r, object_id, invitation_id, "resend" if action == "resend" else "revoke")),
                 name="tenants_clientorganization_invitation"),
            path("<int:object_id>/offboard/", wrap(lambda r, object_id: admin_views.offboard(self, r, object_id)),
                 name="tenants_clientorganization_offboard"),
            *admin_setup.setup_urls(self),
            *admin_dashboard.health_urls(self),
            *super().get_urls(),
        ]

    # --- actions ------------------------------------------------------------------------------------
    @admin.action(description="Check consent (in the background)", permissions=["change"])
    def check_consent(self, request: HttpRequest, queryset: QuerySet[ClientOrganization]) -> None:
        count = enqueue_consent_checks(queryset.values_list("pk", flat=True))
        self.message_user(request, f"Consent checks queued for {count} organization(s); refresh this page in a minute.",
                          messages.SUCCESS)

    @admin.action(description="Show consent links", permissions=["change"])
    def show_consent_links(self, request: HttpRequest, queryset: QuerySet[ClientOrganization]) -> HttpResponse | None:
        return self._one(request, queryset, "admin:tenants_clientorganization_consent_links")

    @admin.action(description="Send invitation", permissions=["change"])
    def send_invitation(self, request: HttpRequest, queryset: QuerySet[ClientOrganization]) -> HttpResponse | None:
        return self._one(request, queryset, "admin:tenants_clientorganization_invite")

    @admin.action(description="Offboard (the client leaves)", permissions=["change"])
    def offboard(self, request: HttpRequest, queryset: QuerySet[ClientOrganization]) -> HttpResponse | None:
        return self._one(request, queryset, "admin:tenants_clientorganization_offboard")

    @admin.action(description="Reactivate offboarded organizations", permissions=["change"])
    def reactivate(self, request: HttpRequest, queryset: QuerySet[ClientOrganization]) -> None:
        count = 0
        for organization in queryset.filter(offboarded_at__isnull=False):
            if services.organization_reactivate(acting_user=signed_in_user(request), organization=organization):
                self.log_change(request, organization, "Reactivated.")
                count += 1
        self.message_user(request, f"Reactivated {count} organization(s). Invite a client admin again and check "
                          "consent before background work resumes for them.", messages.SUCCESS)

    def _one(self, request: HttpRequest, queryset: QuerySet[ClientOrganization], url_name: str) -> HttpResponse | None:
        """Actions that need a page of their own act on exactly one organization."""
        pks = list(queryset.values_list("pk", flat=True)[:2])
        if len(pks) != 1:
            self.message_user(request, "Select exactly one organization for this action.", messages.WARNING)
            return None
        return HttpResponseRedirect(reverse(url_name, args=[pks[0]]))


@admin.register(AuditEvent)
class AuditEventAdmin(CheckedInputMixin, admin.ModelAdmin):
    """Read-only: the audit trail is written by services alone."""

    list_display = ("created", "action", "organization", "actor", "target")
    list_filter = ("action", ("organization", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("organization", "actor")
    search_fields = ("target",)
    date_hierarchy = "created"
    fields = ("created", "action", "organization", "actor", "target", "changes")
    readonly_fields = fields

    @admin.display(description="changes")
    def changes(self, obj: AuditEvent) -> str:
        """Only the fields that changed, before and after, in words (portal/readable.py), not the stored JSON."""
        rows = admin_dashboard.audit_changes(obj)
        if not rows:
            return "—"
        return format_html("<table><thead><tr><th>Field</th><th>Before</th><th>After</th></tr></thead><tbody>{}</tbody></table>",
                           format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                                            ((row["field"], readable(row["before"]), readable(row["after"])) for row in rows)))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
