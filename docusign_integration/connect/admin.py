"""Admin for Connect: received messages (read-only, quarantined ones flagged) and HMAC keys (write-only secret).

A key's secret is typed once into a password input and never shown again: the list and the form show only its
last 4 characters. Keys are retired, not deleted, so the record of which key verified what stays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from docusign_integration.connect.hmac import connect_hmac_key_add, connect_hmac_key_retire
from docusign_integration.connect.models import ConnectEvent, ConnectEventState, ConnectHMACKey
from docusign_integration.keys.encryption import masked
from portal.admin_input import CheckedInputMixin
from tenants.users import signed_in_user

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldGroups

# state-* classes of static/admin_badges.css (CSP: style-src 'self', so never a style attribute).
STATE_TONES: dict[str, str] = {
    ConnectEventState.RECEIVED: "neutral", ConnectEventState.APPLIED: "ok",
    ConnectEventState.IGNORED: "neutral", ConnectEventState.QUARANTINED: "error",
}


@admin.register(ConnectEvent)
class ConnectEventAdmin(CheckedInputMixin, admin.ModelAdmin):
    list_display = ("event", "envelope_id", "organization", "account_id", "state_badge", "generated_at", "received_at",
                    "retry_count")
    list_filter = ("state", "event", "environment")
    list_select_related = ("organization",)  # one query for the page, whatever its length
    search_fields = ("envelope_id", "account_id", "organization__name")
    date_hierarchy = "received_at"
    # The raw body is not shown: it holds signers' names and emails, and staff need only what it meant.
    fields = ("event", "state", "reason", "organization", "environment", "account_id", "envelope_id", "recipient_id",
              "generated_at", "retry_count", "received_at", "processed_at", "attempts")
    readonly_fields = fields

    class Media:
        css = {"all": ("admin_badges.css",)}

    @admin.display(description="State", ordering="state")
    def state_badge(self, obj: ConnectEvent) -> str:
        return format_html('<strong class="state state-{}">{}</strong>', STATE_TONES[obj.state], obj.get_state_display())

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ConnectEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ConnectEvent | None = None) -> bool:
        return False


class ConnectHMACKeyAddForm(forms.ModelForm):
    secret = forms.CharField(widget=forms.PasswordInput(render_value=False), min_length=16, strip=True,
                             help_text="As DocuSign showed it once (Settings → Connect → Connect Keys). It is never shown again.")

    class Meta:
        model = ConnectHMACKey
        fields = ("environment", "scope", "organization", "label", "key_id")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        scope, organization = cleaned.get("scope"), cleaned.get("organization")
        if scope == "partner" and organization is not None:
            self.add_error("organization", "A partner key signs for every client: leave the organization empty.")
        if scope == "account" and organization is None:
            self.add_error("organization", "Choose the client organization whose account holds this key.")
        return cleaned


@admin.register(ConnectHMACKey)
class ConnectHMACKeyAdmin(CheckedInputMixin, admin.ModelAdmin):
    list_display = ("label", "scope", "environment", "organization", "secret_hint", "active", "created", "retired_at")
    list_filter = ("active", "scope", "environment")
    list_select_related = ("organization",)
    search_fields = ("label", "key_id", "organization__name")  # never the secret
    readonly_fields = ("environment", "scope", "organization", "key_id", "secret_hint", "active", "created", "retired_at")
    fields = ("label", *readonly_fields)
    actions = ["retire"]

    @admin.display(description="Secret")
    def secret_hint(self, obj: ConnectHMACKey) -> str:
        return masked(obj.secret_ciphertext, obj.get_secret)

    def get_form(self, request: HttpRequest, obj: ConnectHMACKey | None = None, change: bool = False,
                 **kwargs: Any) -> type[forms.ModelForm[ConnectHMACKey]]:
        if obj is None:
            kwargs["form"] = ConnectHMACKeyAddForm
            kwargs["fields"] = None
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: ConnectHMACKey | None = None) -> _FieldGroups:
        if obj is None:
            return ("environment", "scope", "organization", "label", "key_id", "secret")
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: ConnectHMACKey | None = None) -> list[str] | tuple[str, ...]:
        return () if obj is None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: ConnectHMACKey, form: forms.ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)  # only the label is editable
            return
        data = form.cleaned_data
        created = connect_hmac_key_add(acting_user=signed_in_user(request), environment=data["environment"], label=data["label"],
                                       secret=data["secret"], organization=data.get("organization"),
                                       key_id=data.get("key_id") or "")
        obj.pk = created.pk  # the admin's redirect and log entry point at the stored key

    def has_delete_permission(self, request: HttpRequest, obj: ConnectHMACKey | None = None) -> bool:
        return False  # retire instead, so the record of which key verified what stays

    @admin.action(description="Retire the selected keys (stop accepting their signatures)", permissions=["change"])
    def retire(self, request: HttpRequest, queryset: QuerySet[ConnectHMACKey]) -> None:
        retired = sum(connect_hmac_key_retire(acting_user=signed_in_user(request), key=key) for key in queryset)
        self.message_user(request, f"{retired} key(s) retired.", messages.SUCCESS)
