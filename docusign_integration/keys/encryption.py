"""Secrets at rest: AES-256-GCM with the keys in settings.PORTAL_ENCRYPTION_KEYS (docs/security.md TS-1, TS-2).

Each value is encrypted with a fresh 96-bit nonce and authenticated with an *associated data* string that
names the row and the field (`model_context`), so a ciphertext copied to another row or column fails to
decrypt instead of silently working. Output: `v1.<key id>.<base64url(nonce || ciphertext+tag)>`, where the
key id is the first 8 hex digits of sha256(key): it says which key to decrypt with and lets
`rotate_encryption_keys --check` find rows that still need an old key. The first key encrypts, all decrypt.
There is no plaintext fallback anywhere: a missing or malformed key stops the process (`validate_keys`), and so
does a configuration that lacks a key id recorded by stored secrets (`stored_keys.validate_keys_at_start`).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.views.decorators.debug import sensitive_variables

VERSION = "v1"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored secret could not be decrypted; the message never contains the ciphertext or plaintext."""


@dataclass(frozen=True)
class EncryptedFields:
    """One registered model: the columns holding ciphertexts and how to build each one's AAD context."""

    model: type[models.Model]
    fields: tuple[str, ...]
    context_fn: Callable[[models.Model, str], str]
    # What losing the key means for rows of this model (`rotate_encryption_keys --forget-lost-key`): given the rows
    # whose secret records the lost key id, and that id, it makes them stop recording it; returns how many it handled.
    # Its docstring's first line is what the command shows the operator before acting.
    discard: Callable[[models.QuerySet, str], int] | None = None


_registry: list[EncryptedFields] = []


def _b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value.encode("ascii") + b"=" * (-len(value) % 4))


def _b64encode(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode("ascii")


def _key_id(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:8]


@functools.lru_cache(maxsize=8)
def _parse_keys(configured: tuple[str, ...]) -> tuple[tuple[str, bytes], ...]:
    if not configured:
        raise ImproperlyConfigured("PORTAL_ENCRYPTION_KEYS is empty: secrets cannot be stored encrypted (docusign.E007).")
    keys: list[tuple[str, bytes]] = []
    for index, value in enumerate(configured, start=1):
        try:
            raw = _b64decode(value.strip())
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raw = b""
        if len(raw) != 32:
            raise ImproperlyConfigured(
                f"Key {index} of PORTAL_ENCRYPTION_KEYS is not a base64url-encoded 32-byte key (docusign.E008)."
            )
        key_id = _key_id(raw)
        if any(key_id == known for known, _ in keys):
            raise ImproperlyConfigured(f"Key {index} of PORTAL_ENCRYPTION_KEYS is listed twice.")
        keys.append((key_id, raw))
    return tuple(keys)


def _keys() -> tuple[tuple[str, bytes], ...]:
    return _parse_keys(tuple(settings.PORTAL_ENCRYPTION_KEYS))


def validate_keys() -> None:
    """Raise ImproperlyConfigured unless every configured key is usable: web and worker call this at start."""
    _keys()


def current_key_id() -> str:
    """The id of the key that encrypts (the first one configured)."""
    return _keys()[0][0]


def configured_key_ids() -> list[str]:
    """Ids of every configured key, the encrypting one first."""
    return [key_id for key_id, _ in _keys()]


@sensitive_variables("plaintext")
def encrypt(plaintext: str, *, context: str) -> str:
    """Encrypt `plaintext` under the current key, bound to `context` (e.g. "<model label>:<pk>:<field>")."""
    key_id, raw = _keys()[0]
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(raw).encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
    return f"{VERSION}.{key_id}.{_b64encode(nonce + sealed)}"


def _split(token: str) -> tuple[str, bytes]:
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3 or parts[0] != VERSION or len(parts[1]) != 8:
        raise DecryptionError("The stored secret is not in the v1 encrypted format.")
    try:
        blob = _b64decode(parts[2])
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise DecryptionError("The stored secret is not valid base64url.") from None
    if len(blob) < NONCE_BYTES + 16:
        raise DecryptionError("The stored secret is truncated.")
    return parts[1], blob


def key_id_of(token: str) -> str:
    """The id of the key `token` was encrypted with (raises DecryptionError for a malformed value)."""
    return _split(token)[0]


@sensitive_variables("plaintext")
def decrypt(token: str, *, context: str) -> str:
    """Decrypt a value from `encrypt` with the same `context`; raise DecryptionError on any mismatch."""
    key_id, blob = _split(token)
    raw = dict(_keys()).get(key_id)
    if raw is None:
        raise DecryptionError(
            f"The stored secret was encrypted with key id {key_id}, which is not in PORTAL_ENCRYPTION_KEYS."
        )
    try:
        plaintext = AESGCM(raw).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode("utf-8"))
    except InvalidTag:
        raise DecryptionError(
            "The stored secret failed authentication: it was altered or belongs to another record or field."
        ) from None
    return plaintext.decode("utf-8")


def reencrypt(token: str, *, context: str) -> str:
    """`token` re-encrypted under the current key (a fresh nonce even when the key is unchanged)."""
    return encrypt(decrypt(token, context=context), context=context)


def masked(ciphertext: str, read: Callable[[], str]) -> str:
    """A stored secret as a page may show it: its last 4 characters, never more (product rule: never whole)."""
    if not ciphertext:
        return "none stored (discarded)"  # rotate_encryption_keys --forget-lost-key empties what it gave up
    try:
        return "…" + read()[-4:]
    except DecryptionError:
        return "unreadable (encryption key missing or value altered)"


def model_context(instance: models.Model, field: str) -> str:
    """The AAD for `field` of `instance`: "<app_label.Model>:<pk>:<field>". The pk must be set before encrypting."""
    if instance.pk is None:
        raise ValueError("Encrypting for a row without a primary key: give the model a default pk (e.g. a UUID).")
    return f"{instance._meta.label}:{instance.pk}:{field}"


def register(model: type[models.Model], fields: Sequence[str],
             context_fn: Callable[[models.Model, str], str] = model_context, *,
             discard: Callable[[models.QuerySet, str], int] | None = None) -> None:
    """Declare that `fields` of `model` hold ciphertexts, so key rotation can find and re-encrypt them.

    `discard(rows, key_id)` says what to do with rows whose secret is under a key that is truly lost.
    """
    entry = EncryptedFields(model, tuple(fields), context_fn, discard)
    if not any(e.model is model for e in _registry):
        _registry.append(entry)


def registered() -> list[EncryptedFields]:
    """Every model registered with `register`, in registration order."""
    return list(_registry)
