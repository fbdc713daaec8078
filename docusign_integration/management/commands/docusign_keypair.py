"""`manage.py docusign_keypair PATH`: a new RSA keypair for the integration key's JWT grant."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Generate a 2048-bit RSA keypair. The private key is written to PATH (mode 0600, never overwritten); the public "
        "key is printed to paste on the integration key's page (Apps and Keys > Service Integration > Add RSA Keypair "
        "offers 'upload', or replace its generated key). Point DOCUSIGN_PRIVATE_KEY_FILE at PATH."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        try:
            # O_EXCL: refuse an existing file, even one created between a check and the write.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as exc:
            raise CommandError(f"{path} exists; refusing to overwrite a private key. Choose another path.") from exc
        except OSError as exc:
            raise CommandError(f"Cannot create {path}: {exc.strerror}.") from exc
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.stderr.write(f"Private key written to {path} (mode 0600). Public key to register on the integration key:")
        self.stdout.write(public.decode().strip())
