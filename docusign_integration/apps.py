from django.apps import AppConfig

# The capabilities, one subpackage each (README "Architecture"). Celery's autodiscovery looks for a `tasks` module in
# each (portal/celery.py): a capability's tasks live beside it, and a new capability is named here once.
CAPABILITIES = ("client", "keys", "oauth", "consent", "connect", "setup", "envelopes")


class DocusignIntegrationConfig(AppConfig):
    name = "docusign_integration"
    verbose_name = "DocuSign integration"

    def ready(self) -> None:
        # Registers the envelope-completed hook that queues signed-document downloads, in web and worker alike.
        from docusign_integration.envelopes import tasks as tasks_envelopes  # noqa: F401
