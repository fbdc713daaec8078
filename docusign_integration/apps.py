from django.apps import AppConfig


class DocusignIntegrationConfig(AppConfig):
    name = "docusign_integration"
    verbose_name = "DocuSign integration"

    def ready(self) -> None:
        # Registers the envelope-completed hook that queues signed-document downloads, in web and worker alike.
        from docusign_integration.envelopes import tasks as tasks_envelopes  # noqa: F401
