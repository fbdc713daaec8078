from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Partner portal"

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401  (registers the system checks)
            task_failures,  # noqa: F401  (connects Celery's task_failure: dead letters and alerts)
        )
