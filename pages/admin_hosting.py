"""ISV staff's admin for the ISV account and the hosted clients' usage (docs/docusign.md §10.1).

The ISV account is recorded and changed by `manage.py setup_isv_account` (it calls DocuSign to keep the permission
profile right), so the admin shows it read-only; its actions queue the push of the portal's Connect configuration and
the drift check (docusign_integration/hosting/isv_setup.py), whose findings the list shows. Its usage page lists, for
one month, the envelopes each hosted client sent (one query) and downloads the billing CSV of any range of months.
"""

from __future__ import annotations

import io
from datetime import date, datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from docusign_integration.client import conf
from docusign_integration.hosting.tasks import (
    hosted_client_provision_soon,
    isv_account_setup_check_task,
    isv_account_setup_push_task,
)
from docusign_integration.hosting.usage import hosted_usage, write_usage_csv
from docusign_integration.setup.admin import BADGE_TONES
from docusign_integration.setup.models import SetupStatus
from portal.badges import badge
from tenants.models import ClientOrganization, ISVAccount
from tenants.users import signed_in_user


class HostedProvisionForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=50, required=False, help_text="Default: from the name. Also names its system "
                           "user's email, by the ISV account's pattern.")
    environment = forms.ChoiceField(choices=conf.ENVIRONMENT_CHOICES)


def _month(value: str | None, default: date) -> date:
    try:
        return datetime.strptime(value or "", "%Y-%m").date()
    except ValueError:
        return default


@admin.register(ISVAccount)
class ISVAccountAdmin(admin.ModelAdmin):
    list_display = ("account_id", "environment", "setup", "admin_user_id", "system_user_email_pattern",
                    "permission_profile_name", "last_sweep_at", "last_sweep_calls", "last_sweep_unroutable")
    fields = (*list_display, "setup_drift", "connect_id", "setup_checked_at", "setup_last_error")
    readonly_fields = fields
    actions = ("push_setup", "check_setup")

    @admin.display(description="DocuSign setup", ordering="setup_status")
    def setup(self, obj: ISVAccount) -> str:
        """What the last push or check found (stored; DocuSign is not asked): drifted fields or the error on hover."""
        status = SetupStatus(obj.setup_status) if obj.setup_status in SetupStatus.values else SetupStatus.UNKNOWN
        return badge(status.label, BADGE_TONES[status], title=", ".join(obj.setup_drift or []) or obj.setup_last_error)

    def has_setup_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("tenants.change_clientorganization")

    @admin.action(description="Push the portal's Connect configuration and settings", permissions=["setup"])
    def push_setup(self, request: HttpRequest, queryset: QuerySet[ISVAccount]) -> None:
        """As `manage.py setup_isv_account`: idempotent, as the ISV's administrator system user, in the background."""
        staff = signed_in_user(request)
        environments = list(queryset.values_list("environment", flat=True))
        for environment in environments:
            isv_account_setup_push_task.delay(environment, staff.pk)
        self.message_user(request, f"Setup queued for {len(environments)} ISV account(s); the DocuSign setup column "
                                   "shows the result in a minute.", messages.SUCCESS)

    @admin.action(description="Check DocuSign setup (drift)", permissions=["setup"])
    def check_setup(self, request: HttpRequest, queryset: QuerySet[ISVAccount]) -> None:
        """Compare the ISV account with what the portal would push, now; read-only at DocuSign."""
        environments = list(queryset.values_list("environment", flat=True))
        for environment in environments:
            isv_account_setup_check_task.delay(environment)
        self.message_user(request, f"Setup check queued for {len(environments)} ISV account(s); the DocuSign setup "
                                   "column shows each drifted field in a minute.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # `manage.py setup_isv_account` records it

    def has_change_permission(self, request: HttpRequest, obj: ISVAccount | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ISVAccount | None = None) -> bool:
        return False  # hosted clients live in it

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("usage/", wrap(self.usage_view), name="tenants_isvaccount_usage"),
            path("usage.csv", wrap(self.usage_csv), name="tenants_isvaccount_usage_csv"),
            path("provision/", wrap(self.provision_view), name="tenants_isvaccount_provision"),
            *super().get_urls(),
        ]

    def _check(self, request: HttpRequest) -> None:
        if not request.user.has_perm("tenants.view_clientorganization"):
            raise PermissionDenied

    def usage_view(self, request: HttpRequest) -> HttpResponse:
        """Envelopes sent by each hosted client in one month (?month=YYYY-MM, default this month)."""
        self._check(request)
        month = _month(request.GET.get("month"), timezone.now().date().replace(day=1))
        rows = hosted_usage(first_month=month, last_month=month)
        return TemplateResponse(request, "admin/tenants/isvaccount/usage.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta,
            "title": f"Envelopes sent by hosted clients, {month:%B %Y}", "month": month, "rows": rows,
            "total": sum(r.envelopes_sent for r in rows),
        })

    def usage_csv(self, request: HttpRequest) -> HttpResponse:
        """The billing CSV: ?from=YYYY-MM&to=YYYY-MM (default: the last twelve months)."""
        self._check(request)
        today = timezone.now().date()
        last = _month(request.GET.get("to"), today.replace(day=1))
        first = _month(request.GET.get("from"), last.replace(year=last.year - 1))
        stream = io.StringIO()
        write_usage_csv(hosted_usage(first_month=min(first, last), last_month=last), stream)
        response = HttpResponse(stream.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="hosted-usage-{first:%Y-%m}-{last:%Y-%m}.csv"'
        return response

    def provision_view(self, request: HttpRequest) -> HttpResponse:
        """Provision a hosted client (or provision it again): recorded at once with local checks, its system user is
        created (or found again) in the ISV account in the background; the organization's page shows the outcome."""
        if not request.user.has_perm("tenants.add_clientorganization"):
            raise PermissionDenied
        form = HostedProvisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                organization = hosted_client_provision_soon(acting_user=signed_in_user(request), **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(request, f"Recorded {organization.name}, hosted in the ISV account. Its DocuSign user is "
                                           "being created in the ISV account: this page shows it in a minute. Next: "
                                           "invite a client admin.")
                return HttpResponseRedirect(reverse("admin:tenants_clientorganization_change", args=[organization.pk]))
        return TemplateResponse(request, "admin/tenants/clientorganization/form.html", {
            **self.admin_site.each_context(request), "opts": ClientOrganization._meta, "original": None, "form": form,
            "title": "Provision a hosted client", "submit_label": "Provision in the ISV account",
        })
