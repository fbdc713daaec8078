from django.apps import AppConfig


class PagesConfig(AppConfig):
    """Faces only: no models. Its admin module registers the tenants models' ModelAdmins."""

    name = "pages"
    verbose_name = "Portal pages"
