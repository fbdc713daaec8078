"""Admin for "Setup DocuSign account": the setup profile, the action with its confirmation page, and the status badge.

The client organization admin (pages/admin.py) lists `setup_status`, offers `setup_docusign_account` and adds
`setup_urls`. The badge reads the stored AccountSetupState (joined by the changelist), never DocuSign.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.http import urlencode

from docusign_integration.setup.account_setup import desired_configuration, listener_url, setup_profile_update
from docusign_integration.setup.models import SetupProfile, SetupStatus
from docusign_integration.setup.tasks import enqueue_setup_checks, enqueue_setup_pushes
from portal.admin_input import CheckedInputMixin, valid_pks
from portal.badges import badge
from portal.readable import readable_rows
from tenants.active import active_only
from tenants.models import ClientOrganization
from tenants.users import acting_user, signed_in_user

if TYPE_CHECKING:
    from django import forms
    from django.contrib.admin import ModelAdmin

# The ids travel in the confirmation page's URL; beyond this, `manage.py setup_docusign_account --all` is the tool.
MAX_SELECTION = 500
# Badge tones (static/admin_badges.css, attached by the client organization admin).
BADGE_TONES = {
    SetupStatus.IN_SYNC: "ok", SetupStatus.DRIFTED: "warning", SetupStatus.MISSING: "warning",
    SetupStatus.UNKNOWN: "neutral", SetupStatus.ERROR: "error",
}


@admin.register(SetupProfile)
class SetupProfileAdmin(CheckedInputMixin, admin.ModelAdmin):
    """The one setup profile; the list page goes straight to it."""

    fields = ("connect_name", "listener", "connect_configuration", "account_settings", "updated")
    readonly_fields = ("listener", "updated")

    @admin.display(description="Listener URL (urlToPublishTo)")
    def listener(self, obj: SetupProfile) -> str:
        return listener_url()

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return redirect("admin:docusign_integration_setupprofile_change", SetupProfile.load().pk)

    def save_model(self, request: HttpRequest, obj: SetupProfile, form: forms.ModelForm, change: bool) -> None:
        # Through the audited service, never the admin's own obj.save() (tests/test_orm_writes.py cannot see that one).
        updated = setup_profile_update(acting_user=acting_user(request), connect_name=obj.connect_name,
                                       connect_configuration=obj.connect_configuration,
                                       account_settings=obj.account_settings)
        obj.updated = updated.updated

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the row is made from settings on first use

    def has_delete_permission(self, request: HttpRequest, obj: SetupProfile | None = None) -> bool:
        return False


@admin.display(description="DocuSign setup", ordering="account_setup__status")
def setup_status(obj: ClientOrganization) -> str:
    """The stored setup status as a badge; hovering shows the drifted fields or the last error."""
    state = getattr(obj, "account_setup", None)  # a missing row raises an AttributeError subclass: not set up yet
    status = SetupStatus(state.status) if state else SetupStatus.UNKNOWN
    detail = (", ".join(state.drift) or state.last_error) if state else ""
    return badge(status.label, BADGE_TONES[status], title=detail)


@admin.action(description="Setup DocuSign account", permissions=["change"])
def setup_docusign_account(model_admin: ModelAdmin, request: HttpRequest,
                           queryset: QuerySet[ClientOrganization]) -> HttpResponse | None:
    """Go to the confirmation page for the selected organizations."""
    ids = list(queryset.values_list("pk", flat=True)[:MAX_SELECTION + 1])
    if len(ids) > MAX_SELECTION:
        model_admin.message_user(request, f"Select at most {MAX_SELECTION} organizations here; for more, run "
                                 "`manage.py setup_docusign_account --all`.", messages.WARNING)
        return None
    query = urlencode({"ids": ",".join(str(pk) for pk in ids)})
    return HttpResponseRedirect(f"{reverse('admin:tenants_clientorganization_setup')}?{query}")


@admin.action(description="Check DocuSign setup (drift)", permissions=["change"])
def check_docusign_setup(model_admin: ModelAdmin, request: HttpRequest, queryset: QuerySet[ClientOrganization]) -> None:
    """Compare each selected account with the setup profile now, instead of waiting for the daily check. Read-only."""
    ready = active_only(queryset.filter(account_id__isnull=False))
    count = enqueue_setup_checks(ready.values_list("pk", flat=True))
    skipped = queryset.count() - count
    model_admin.message_user(request, f"Setup check queued for {count} organization(s)"
                             + (f" ({skipped} skipped: no DocuSign account yet, or offboarded)" if skipped else "")
                             + "; the DocuSign setup column shows each result in a minute.", messages.SUCCESS)


def setup_urls(model_admin: ModelAdmin) -> list[URLPattern]:
    """The confirmation page's URL, for the client organization admin's `get_urls`."""
    view = model_admin.admin_site.admin_view(lambda request: setup_confirm(model_admin, request))
    return [path("setup-docusign-account/", view, name="tenants_clientorganization_setup")]


def _selected_ids(raw: str) -> list[int]:
    """The organization ids in "3,7,9"; a part that cannot be one (not a number, beyond the id column) is dropped."""
    return valid_pks(ClientOrganization, (part.strip() for part in raw.split(",")[:MAX_SELECTION]))


def setup_confirm(model_admin: ModelAdmin, request: HttpRequest) -> HttpResponse:
    """GET: what will be pushed, to which organizations. POST: queue one push per organization (as its system user)."""
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    ids = _selected_ids(request.POST.get("ids", "") if request.method == "POST" else request.GET.get("ids", ""))
    selected = model_admin.get_queryset(request).filter(pk__in=ids)
    ready = active_only(selected.filter(account_id__isnull=False))  # offboarded: nothing pushed (docs/security.md TS-6)
    if request.method == "POST":
        staff = signed_in_user(request)
        count = enqueue_setup_pushes(ready.values_list("pk", flat=True), acting_user_id=staff.pk)
        LogEntry.objects.log_actions(user_id=staff.pk, queryset=ready, action_flag=CHANGE,
                                     change_message="Queued Setup DocuSign account.")
        model_admin.message_user(request, f"Setup DocuSign account queued for {count} organization(s); "
                                 "the DocuSign setup column shows each result in a minute.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:tenants_clientorganization_changelist"))
    profile = SetupProfile.load()
    return TemplateResponse(request, "admin/docusign_integration/setup_confirm.html", {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Setup DocuSign account",
        "ids": ",".join(str(pk) for pk in ids),
        "organizations": ready.select_related("account_setup").order_by("name"),
        "skipped": selected.exclude(pk__in=ready.values("pk")).order_by("name"),
        # Rows of words for a table, never Python reprs of lists and dicts.
        "configuration": readable_rows(desired_configuration(profile)),
        "account_settings": readable_rows(profile.account_settings),
    })
