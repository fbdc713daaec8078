from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Partner portal"

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401  (registers the system checks)
            metrics,  # noqa: F401  (connects Celery's task signals: tasks by name and outcome)
            request_id,  # noqa: F401  (connects Celery's publish/prerun signals: a request's id in its tasks)
            tracing,
            worker_metrics,  # noqa: F401  (connects Celery's worker_ready: the worker's own metrics port, when set)
        )

        tracing.setup()  # only when PORTAL_TRACING is on; imports nothing of OpenTelemetry otherwise


class PortalAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin whose `admin.site` is the portal's: two-factor for staff when PORTAL_STAFF_REQUIRE_OTP."""

    default = False  # named in INSTALLED_APPS; "portal" itself still means PortalConfig
    default_site = "portal.admin_site.PortalAdminSite"

    def ready(self) -> None:
        super().ready()  # autodiscovers every app's admin module, django-otp's device admin included
        from django.contrib import admin

        from . import admin_input, sign_in, staff_otp

        staff_otp.restrict_device_admin_to_superusers()
        sign_in.replace_lockout_admin()
        # Last, once every app's admin module has registered: no admin answers 500 to a hostile id (test_bad_ids).
        admin_input.guard_every_registered_admin(admin.site)
