from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Partner portal"

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401  (registers the system checks)
            task_failures,  # noqa: F401  (connects Celery's task_failure: dead letters and alerts)
        )


class PortalAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin whose `admin.site` is the portal's: two-factor for staff when PORTAL_STAFF_REQUIRE_OTP."""

    default = False  # named in INSTALLED_APPS; "portal" itself still means PortalConfig
    default_site = "portal.admin_site.PortalAdminSite"

    def ready(self) -> None:
        super().ready()  # autodiscovers every app's admin module, django-otp's device admin included
        from . import staff_otp

        staff_otp.restrict_device_admin_to_superusers()
