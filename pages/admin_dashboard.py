"""Staff pages for operating the portal: the dashboard (`/admin/dashboard/`) and each organization's health page.

Both need admin access and the view permission on client organizations. The health page is added through
`ClientOrganizationAdmin.get_urls` (`health_urls`), the dashboard beside the admin site in portal/urls.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from api import usage as api_usage
from docusign_integration.hosting.usage import organization_usage
from docusign_integration.models import CachedAccessToken
from pages import dashboard
from tenants.health import organization_health, with_health
from tenants.models import AuditEvent, ClientOrganization

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

AUDIT_PAGE_SIZE = 25


def _require_view_permission(model_admin: ModelAdmin, request: HttpRequest) -> None:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied


def dashboard_view(request: HttpRequest) -> HttpResponse:
    """Organizations by onboarding state and health, the attention list (paginated), Connect deliveries per hour."""
    model_admin = admin.site.get_model_admin(ClientOrganization)
    _require_view_permission(model_admin, request)
    now = timezone.now()  # one instant for every figure on the page, so they add up
    onboarding = dashboard.onboarding_tallies()
    return TemplateResponse(request, "admin/tenants/dashboard.html", {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "opts": model_admin.model._meta,
        "organizations_total": sum(t.count for t in onboarding),
        "onboarding": onboarding,
        "health": dashboard.health_tallies(now),
        "attention": dashboard.attention_page(request.GET.get("page"), now),
        "chart": dashboard.deliveries_per_hour(now),
    })


def health_view(model_admin: ModelAdmin, request: HttpRequest, object_id: int) -> HttpResponse:
    """One organization's health: findings per topic, the facts behind them, its connections and audit trail."""
    _require_view_permission(model_admin, request)
    organization = with_health(model_admin.get_queryset(request).filter(pk=object_id)).first()
    if organization is None:
        raise Http404
    system_user = getattr(organization, "system_user", None)
    token_expires_at = (CachedAccessToken.objects.filter(environment=organization.environment, user_id=system_user.user_id)
                        .order_by("-expires_at").values_list("expires_at", flat=True).first()) if system_user else None
    events = AuditEvent.objects.filter(organization=organization).select_related("actor")
    audit = Paginator(dashboard.MappedRows(events, lambda event: (event, audit_changes(event))),
                      AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return TemplateResponse(request, "admin/tenants/health.html", {
        **model_admin.admin_site.each_context(request),
        "title": f"Health of {organization.name}",
        "opts": model_admin.model._meta,
        "original": organization,
        "health": organization_health(organization),
        "system_user": system_user,
        "setup": getattr(organization, "account_setup", None),
        "sync": getattr(organization, "sync_state", None),
        "token_expires_at": token_expires_at,
        "credentials": organization.docusign_credentials.select_related("user").order_by("-updated"),
        "audit": audit,
        "api_use": api_usage.recent_use(organization.pk),  # the ISV API's calls and errors per key (one query)
        "api_use_flush_seconds": api_usage.FLUSH_SECONDS,
        # A hosted client's envelopes sent per month over the last year, for billing (one query).
        "usage": organization_usage(organization, first_month=(now := timezone.now().date()).replace(
            year=now.year - 1, day=1)) if organization.is_hosted else None,
    })


def health_urls(model_admin: ModelAdmin) -> list[URLPattern]:
    """The health page's URL, for the client organization admin's `get_urls`."""
    view = model_admin.admin_site.admin_view(lambda request, object_id: health_view(model_admin, request, object_id))
    return [path("<int:object_id>/health/", view, name="tenants_clientorganization_health")]


@admin.display(description="health page")
def health_link(obj: ClientOrganization) -> str:
    """The changelist's link to the organization's health page."""
    return format_html('<a href="{}">Health</a>', reverse("admin:tenants_clientorganization_health", args=[obj.pk]))


def audit_changes(event: AuditEvent) -> list[dict[str, Any]]:
    """The fields an audit event changed, as {field, before, after} rows (services never audit secrets).

    A field present on both sides with the same value did not change, and is left out."""
    before, after = event.before or {}, event.after or {}
    return [{"field": key, "before": before.get(key), "after": after.get(key)} for key in sorted(before.keys() | after.keys())
            if not (key in before and key in after and before[key] == after[key])]


# Wrapped once here, so portal/urls.py routes to a view with the admin's login redirect and staff check.
site_dashboard = admin.site.admin_view(dashboard_view)
