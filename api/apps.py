from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API for the ISV's own product (issue 16): `/api/v1/`, keyed per client organization."""

    name = "api"
    verbose_name = "ISV API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the Api-Key scheme with drf-spectacular)
