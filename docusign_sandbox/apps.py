from django.apps import AppConfig


class DocusignSandboxConfig(AppConfig):
    name = "docusign_sandbox"
    verbose_name = "DocuSign sandbox"
