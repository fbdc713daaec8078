"""The sandbox's own database: when a `sandbox` alias is configured (`make run` does), its models live only there.

The sandbox stands in for DocuSign, whose secrets (client secret hash, RSA public keys, users' passwords, Connect HMAC
secrets, the tokens it issued) are never in the portal's database: a copy of the portal's database then holds only
the portal's own, encrypted, secrets (issue 12 item 9). Without the alias (the test suite, a deployment that serves
no sandbox) everything stays on `default`. The sandbox's transactions name their database with `database()`, since
`transaction.atomic()` and `on_commit` are not routed.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, models

ALIAS = "sandbox"
APP_LABEL = "docusign_sandbox"


def database() -> str:
    """The alias the sandbox's models use."""
    return ALIAS if ALIAS in settings.DATABASES else DEFAULT_DB_ALIAS


class SandboxRouter:
    """The sandbox app's models read, write and migrate on `sandbox`; nothing else does."""

    def db_for_read(self, model: type[models.Model], **hints: Any) -> str | None:
        return database() if model._meta.app_label == APP_LABEL else None

    db_for_write = db_for_read

    def allow_relation(self, obj1: models.Model, obj2: models.Model, **hints: Any) -> bool | None:
        # The sandbox's rows never point at the portal's, nor the portal's at the sandbox's (it imports nothing of it).
        sandbox = {obj1._meta.app_label == APP_LABEL, obj2._meta.app_label == APP_LABEL}
        if ALIAS not in settings.DATABASES or sandbox == {False}:
            return None  # the portal's own rows: other routers (or Django) decide
        return len(sandbox) == 1

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        if ALIAS not in settings.DATABASES:
            return None
        if app_label == APP_LABEL or db == ALIAS:
            return app_label == APP_LABEL and db == ALIAS
        return None
