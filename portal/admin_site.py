"""The project's admin site: two-factor sign-in for ISV staff (django-otp) when PORTAL_STAFF_REQUIRE_OTP is on.

With it (on by default when DEBUG is off) the admin site, and every staff page built on it (the dashboard, the
custom admin views), lets in only a session verified by a TOTP device: the admin's login page then asks for the
token, and a password-only session is sent back to it. Staff enrol with `manage.py staff_totp EMAIL`.
This module must not import model admins: it is imported while `admin.site` is first built.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.admin import AdminSite
from django.http import HttpRequest
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite


class StaffOTPAuthenticationForm(OTPAdminAuthenticationForm):
    """django-otp's admin login form, in one step for the usual case: with no device chosen and exactly one
    confirmed device (what `staff_totp` enrols), the token is checked against that device."""

    def _chosen_device(self, user: Any) -> Any:  # django-otp's hook for the device the token is checked against
        device = super()._chosen_device(user)
        if device is None and not self.cleaned_data.get("otp_device"):
            devices = list(devices_for_user(user, confirmed=True))
            if len(devices) == 1:
                device = devices[0]
        return device


def otp_required() -> bool:
    return bool(settings.PORTAL_STAFF_REQUIRE_OTP)


class PortalAdminSite(OTPAdminSite):
    """The project's admin site (`admin.site`, name "admin"): django-otp's OTPAdminSite when two-factor is required,
    Django's own admin site otherwise. Read at every request, so the setting can change without a new site."""

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    # The ISV's brand (PORTAL_BRAND_NAME) instead of "Django administration", read at every request.
    @property
    def site_header(self) -> str:
        return str(settings.PORTAL_BRAND_NAME)

    @property
    def site_title(self) -> str:
        return str(settings.PORTAL_BRAND_NAME)

    @property
    def index_title(self) -> str:
        return "Client organizations and operations"

    @property
    def login_form(self) -> type | None:
        return StaffOTPAuthenticationForm if otp_required() else None  # None: Django's AdminAuthenticationForm

    @property
    def login_template(self) -> str | None:
        return OTPAdminSite.login_template if otp_required() else None

    # The navigation in the order staff work: their clients, then DocuSign's side, the ISV product's API and events,
    # then operations (dead letters); then the rest (users, the sandbox, two-factor devices) in alphabetical order.
    APP_ORDER = ("tenants", "docusign_integration", "api", "outbound_events", "background", "portal")

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[Any]:
        apps = super().get_app_list(request, app_label)
        rank = {label: position for position, label in enumerate(self.APP_ORDER)}
        return sorted(apps, key=lambda app: rank.get(app["app_label"], len(rank)))  # stable: the rest keep their order

    def has_permission(self, request: HttpRequest) -> bool:
        if otp_required():
            return super().has_permission(request)  # active staff, and verified by a device in this session
        return AdminSite.has_permission(self, request)
