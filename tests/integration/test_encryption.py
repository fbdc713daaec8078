"""Secrets at rest: AES-GCM bound to row and field, fail-closed keys, rotation (docs/security.md TS-1, TS-2)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from docusign_integration.keys import encryption
from docusign_integration.keys.encryption import DecryptionError
from docusign_integration.models import CachedAccessToken

ROOT = Path(__file__).resolve().parents[2]


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def test_encrypting_the_same_value_twice_gives_different_ciphertexts():
    one, two = (encryption.encrypt("CANARY-secret", context="ctx") for _ in range(2))
    assert one != two
    assert "CANARY" not in one
    assert encryption.decrypt(one, context="ctx") == encryption.decrypt(two, context="ctx") == "CANARY-secret"


def test_the_format_names_the_version_and_the_key_id():
    token = encryption.encrypt("x", context="ctx")
    version, key_id, _ = token.split(".")
    assert version == "v1" and key_id == encryption.current_key_id() == encryption.key_id_of(token)


@pytest.mark.parametrize("position", [-1, -20, 20])
def test_a_tampered_byte_raises_a_decryption_error_never_garbage(position):
    token = encryption.encrypt("CANARY-secret", context="ctx")
    prefix, blob = token.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4)))
    raw[position] ^= 0x01
    tampered = prefix + "." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(DecryptionError) as caught:
        encryption.decrypt(tampered, context="ctx")
    assert "CANARY" not in str(caught.value)


@pytest.mark.parametrize("value", ["", "plaintext", "v1.abc.def", "v2.12345678.AAAA", "v1.12345678.%%%"])
def test_malformed_values_raise_a_decryption_error(value):
    with pytest.raises(DecryptionError):
        encryption.decrypt(value, context="ctx")


@pytest.mark.django_db
def test_a_ciphertext_copied_to_another_row_fails_to_decrypt():
    expires = timezone.now() + timedelta(hours=1)
    first = CachedAccessToken(environment="sandbox", user_id="a" * 8 + "-0000-4000-8000-" + "0" * 12, scopes="s")
    first.set_access_token("CANARY-token-A", expires)
    first.save()
    second = CachedAccessToken.objects.create(environment="sandbox", user_id="b" * 8 + "-0000-4000-8000-" + "0" * 12,
                                              scopes="s", access_token_ciphertext=first.access_token_ciphertext)
    assert CachedAccessToken.objects.get(pk=first.pk).get_access_token() == "CANARY-token-A"
    with pytest.raises(DecryptionError):
        CachedAccessToken.objects.get(pk=second.pk).get_access_token()


def test_a_ciphertext_copied_to_another_field_fails_to_decrypt():
    token = encryption.encrypt("CANARY", context="docusign_integration.X:1:access_token")
    with pytest.raises(DecryptionError):
        encryption.decrypt(token, context="docusign_integration.X:1:refresh_token")


@pytest.mark.parametrize("keys", [[], ["c2hvcnQ="], ["not base64 at all!"], [base64.urlsafe_b64encode(os.urandom(16)).decode()]])
def test_missing_or_malformed_keys_refuse_to_work(settings, keys):
    settings.PORTAL_ENCRYPTION_KEYS = keys
    with pytest.raises(ImproperlyConfigured):
        encryption.validate_keys()
    with pytest.raises(ImproperlyConfigured):
        encryption.encrypt("secret", context="ctx")


def test_rotation_keeps_old_values_readable_and_encrypts_with_the_new_key(settings):
    old = encryption.encrypt("CANARY-old", context="ctx")
    settings.PORTAL_ENCRYPTION_KEYS = [new_key(), *settings.PORTAL_ENCRYPTION_KEYS]
    assert encryption.decrypt(old, context="ctx") == "CANARY-old"
    rotated = encryption.reencrypt(old, context="ctx")
    assert encryption.key_id_of(rotated) == encryption.current_key_id() != encryption.key_id_of(old)
    settings.PORTAL_ENCRYPTION_KEYS = settings.PORTAL_ENCRYPTION_KEYS[:1]  # the old key removed
    assert encryption.decrypt(rotated, context="ctx") == "CANARY-old"
    with pytest.raises(DecryptionError, match="not in PORTAL_ENCRYPTION_KEYS"):
        encryption.decrypt(old, context="ctx")


@pytest.mark.django_db
def test_rotate_command_reencrypts_every_row_and_check_detects_leftovers(settings, capsys):
    expires = timezone.now() + timedelta(hours=1)
    for n in range(3):
        row = CachedAccessToken(environment="sandbox", user_id=f"{n:08d}-0000-4000-8000-000000000000", scopes="s")
        row.set_access_token(f"CANARY-{n}", expires)
        row.save()
    old_id = encryption.current_key_id()
    settings.PORTAL_ENCRYPTION_KEYS = [new_key(), *settings.PORTAL_ENCRYPTION_KEYS]
    new_id = encryption.current_key_id()

    with pytest.raises(CommandError) as caught:
        call_command("rotate_encryption_keys", "--check")
    assert caught.value.returncode == 1
    assert f"{old_id}: 3 secret(s)" in capsys.readouterr().out

    call_command("rotate_encryption_keys", "--dry-run")
    assert "docusign_integration.CachedAccessToken: would re-encrypt 3 secret(s)" in capsys.readouterr().out
    assert all(encryption.key_id_of(c) == old_id for c in CachedAccessToken.objects.values_list("access_token_ciphertext",
                                                                                                 flat=True))
    call_command("rotate_encryption_keys")
    assert "docusign_integration.CachedAccessToken: re-encrypted 3 secret(s)" in capsys.readouterr().out
    call_command("rotate_encryption_keys", "--check")
    assert f"{new_id}: 3 secret(s) (current key)" in capsys.readouterr().out

    settings.PORTAL_ENCRYPTION_KEYS = settings.PORTAL_ENCRYPTION_KEYS[:1]
    assert sorted(r.get_access_token() for r in CachedAccessToken.objects.all()) == ["CANARY-0", "CANARY-1", "CANARY-2"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token_ciphertext FROM docusign_integration_cachedaccesstoken")
        assert not any("CANARY" in value for (value,) in cursor.fetchall())


@pytest.mark.django_db
def test_check_reports_secrets_under_a_key_that_was_removed(settings, capsys):
    row = CachedAccessToken(environment="sandbox", user_id="00000000-0000-4000-8000-000000000009", scopes="s")
    row.set_access_token("CANARY", timezone.now())
    row.save()
    gone = encryption.current_key_id()
    settings.PORTAL_ENCRYPTION_KEYS = [new_key()]
    with pytest.raises(CommandError):
        call_command("rotate_encryption_keys", "--check")
    assert f"{gone}: 1 secret(s) (NOT CONFIGURED" in capsys.readouterr().out


@pytest.mark.parametrize("entry_point", ["import portal.wsgi", "import portal.celery; portal.celery.app.loader.init_worker(); "
                                         "from celery.signals import worker_init; worker_init.send(sender=None)"])
@pytest.mark.parametrize("keys", ["", "c2hvcnQ"])
def test_web_and_worker_refuse_to_start_without_a_usable_key(entry_point, keys):
    env = {**os.environ, "PORTAL_ENCRYPTION_KEYS": keys, "DJANGO_SETTINGS_MODULE": "portal.settings",
           "CELERY_BROKER_URL": "memory://", "DATABASE_URL": "sqlite:///:memory:"}
    result = subprocess.run([sys.executable, "-c", entry_point], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "PORTAL_ENCRYPTION_KEYS" in result.stderr
