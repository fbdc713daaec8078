from django.apps import AppConfig


class OutboundEventsConfig(AppConfig):
    name = "outbound_events"
    verbose_name = "Events to the ISV's product"

    def ready(self) -> None:
        # Registers endpoint secrets with key rotation (rotate_encryption_keys) in web, worker and commands alike.
        from . import secrets  # noqa: F401
