from django.apps import AppConfig


class DocusignIntegrationConfig(AppConfig):
    name = "docusign_integration"
    verbose_name = "DocuSign integration"
