"""The sandbox over TLS on a loopback port, for clients that only speak `https://` (DocuSign's SDK).

Import `tls_sandbox_fixture` and `sdk_client_fixture` into a test module to use the fixtures `tls_sandbox`
and `sdk_client`. A throwaway self-signed certificate (SAN IP:127.0.0.1 and DNS:localhost) is made per test and trusted by
that test's client alone, through its CA file: verification stays on.
"""

from __future__ import annotations

import copy
import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class TlsSandbox:
    url: str  # https://127.0.0.1:PORT
    oauth_host: str  # 127.0.0.1:PORT, what the SDK calls the oauth host name and the JWT aud
    ca_cert: str  # path of the certificate to trust
    seed: dict

    def user(self, email_prefix: str) -> dict:
        return next(u for u in self.seed["users"] if u["email"].startswith(email_prefix))


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """Write a one-day certificate for 127.0.0.1/localhost and its key; return (cert path, key path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "DocuSign sandbox (test)")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                    x509.DNSName("localhost")]), critical=False)
        # It is its own trust anchor, so it is a CA as well as the server's certificate.
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "sandbox-cert.pem", directory / "sandbox-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


@pytest.fixture(name="tls_sandbox")
def tls_sandbox_fixture(sandbox, tmp_path) -> Iterator[TlsSandbox]:
    """The seeded sandbox (the `sandbox` fixture's world) served a second time, over HTTPS."""
    from tests.sandbox_harness import serving_sandbox

    cert_path, key_path = self_signed_certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    with serving_sandbox(ssl_context=context) as thread:
        _move_sites_to(f"https://{thread.host}:{thread.port}")
        yield TlsSandbox(url=thread.url, oauth_host=f"{thread.host}:{thread.port}", ca_cert=str(cert_path),
                         seed=sandbox.seed)


def _move_sites_to(origin: str) -> None:
    """Serve the seeded accounts over TLS: the first site at `origin`, the second at its localhost twin."""
    from docusign_sandbox import seed, sites
    from docusign_sandbox.models import Account

    for spec in (seed.ACME, seed.GLOBEX_HR, seed.GLOBEX_GENERAL, seed.INITECH, seed.PARTNER):
        site = sites.twin_site(origin) if spec.second_site else origin
        Account.objects.filter(account_id=spec.account_id).update(base_uri=site)


@pytest.fixture(name="sdk_client")
def sdk_client_fixture(tls_sandbox) -> Iterator[object]:
    """DocuSign's own Python SDK client pointed at the TLS sandbox, trusting only its test certificate."""
    from docusign_esign import ApiClient
    from docusign_esign.client.api_response import RESTClientObject
    from docusign_esign.client.configuration import Configuration

    api_client = ApiClient(oauth_host_name=tls_sandbox.oauth_host)
    # The SDK's Configuration is a process-wide singleton read once, when ApiClient builds its pool: give this
    # client a copy that trusts the test certificate, leaving the shared one (and other tests) untouched.
    configuration = copy.copy(Configuration())
    configuration.ssl_ca_cert = tls_sandbox.ca_cert
    api_client.rest_client = RESTClientObject(configuration=configuration)
    yield api_client
    # Close kept-alive connections: the server thread behind each would outlive the shared DB connection.
    api_client.rest_client.pool_manager.clear()
