"""Endpoint signing secrets: Standard Webhooks `whsec_` secrets, encrypted at rest with the portal's one AES-GCM
implementation (`docusign_integration.keys.encryption`, docs/security.md TS-1), bound to the endpoint row and field.

A rotation keeps the previous secret signing until its overlap ends, so the ISV's product can switch its verifier
without dropping a delivery: during the overlap `webhook-signature` carries two signatures.
"""

from __future__ import annotations

import base64
import os
from datetime import datetime, timedelta

from django.db.models import QuerySet

from docusign_integration.keys import encryption

from . import clock
from .models import WebhookEndpoint

SECRET_PREFIX = "whsec_"  # the Standard Webhooks form every verifying library accepts
SECRET_BYTES = 32


def generate() -> str:
    return SECRET_PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode("ascii")


def _context(endpoint: WebhookEndpoint, field: str) -> str:
    return encryption.model_context(endpoint, field)


def set_secret(endpoint: WebhookEndpoint, secret: str) -> None:
    endpoint.secret_ciphertext = encryption.encrypt(secret, context=_context(endpoint, "secret_ciphertext"))


def current(endpoint: WebhookEndpoint) -> str:
    return encryption.decrypt(endpoint.secret_ciphertext, context=_context(endpoint, "secret_ciphertext"))


def rotate(endpoint: WebhookEndpoint, *, overlap: timedelta) -> str:
    """Make a new secret current (unsaved); the old one keeps signing for `overlap`. Returns the new secret."""
    endpoint.previous_secret_ciphertext = encryption.encrypt(
        current(endpoint), context=_context(endpoint, "previous_secret_ciphertext"))
    endpoint.previous_secret_until = clock.now() + overlap
    secret = generate()
    set_secret(endpoint, secret)
    return secret


def signing_secrets(endpoint: WebhookEndpoint, now: datetime | None = None) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the previous one during a rotation's overlap."""
    secrets = [current(endpoint)]
    now = now or clock.now()
    if endpoint.previous_secret_ciphertext and endpoint.previous_secret_until and now < endpoint.previous_secret_until:
        secrets.append(encryption.decrypt(endpoint.previous_secret_ciphertext,
                                          context=_context(endpoint, "previous_secret_ciphertext")))
    return secrets


def masked(endpoint: WebhookEndpoint) -> str:
    return encryption.masked(endpoint.secret_ciphertext, lambda: current(endpoint))


def _discard_lost_key(rows: QuerySet[WebhookEndpoint], key_id: str) -> int:
    """Endpoints whose secret was under the lost key are disabled with no secret: staff rotate the secret to resume."""
    return rows.update(secret_ciphertext="", previous_secret_ciphertext="", previous_secret_until=None, enabled=False,
                       disabled_reason="Its secret was encrypted with a lost key: rotate the secret, then enable it.")


encryption.register(WebhookEndpoint, ["secret_ciphertext", "previous_secret_ciphertext"], discard=_discard_lost_key)
