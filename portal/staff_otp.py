"""Staff TOTP devices (django-otp): enrolling one (`manage.py staff_totp`) and the superuser-only device admin.

The admin site that requires a verified device is `portal.admin_site.PortalAdminSite`.
"""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest
from django.urls import URLPattern
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants import audit
from tenants.users import User

DEVICE_NAME = "Authenticator app"


class SuperuserTOTPDeviceAdmin(TOTPDeviceAdmin):
    """Devices are second factors of other people's sign-in: only superusers see or manage them."""

    def get_urls(self) -> list[URLPattern]:
        # Without django-otp's key and QR code pages: with OTP_ADMIN_HIDE_SENSITIVE_DATA they only answer 403.
        return admin.ModelAdmin.get_urls(self)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: TOTPDevice | None = None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: TOTPDevice | None = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: TOTPDevice | None = None) -> bool:
        return request.user.is_superuser


def restrict_device_admin_to_superusers() -> None:
    """Replace django-otp's device admin (permission-based) with the superuser-only one."""
    if admin.site.is_registered(TOTPDevice):
        admin.site.unregister(TOTPDevice)
    admin.site.register(TOTPDevice, SuperuserTOTPDeviceAdmin)


class EnrolmentRefused(Exception):
    """The user cannot be given a device this way; the message says why and what to do."""


@transaction.atomic
def staff_totp_enrol(*, acting_user: User | None, user: User, replace: bool) -> TOTPDevice:
    """A new, confirmed TOTP device for active ISV staff `user`; its `config_url` is shown to the operator once.

    A user has one device: with a device already, `replace` must be given and deletes the old one (a lost phone).
    Audited without the key.
    """
    if not (user.is_active and user.is_staff):
        raise EnrolmentRefused(f"{user.get_username()} is not ISV staff (or is inactive): only staff sign in to the admin.")
    existing = TOTPDevice.objects.select_for_update().filter(user=user)
    replaced = len(existing)
    if replaced and not replace:
        raise EnrolmentRefused(f"{user.get_username()} already has a TOTP device. Run again with --replace to remove it "
                               "and enrol a new one (for example after a lost phone).")
    existing.delete()
    device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
    audit.record(actor=acting_user, action="staff.totp_enrolled", organization=None, target=user.get_username(),
                 after={"device": device.name, "replaced_devices": replaced})
    return device
