from django.apps import AppConfig


class BackgroundConfig(AppConfig):
    """Background-task failure handling: the retry classifier, dead letters, their admin and the error reports."""

    name = "background"
    verbose_name = "Background tasks"

    def ready(self) -> None:
        from background import task_failures  # noqa: F401  (connects Celery's task_failure: dead letters and alerts)
