"""docs/security.md DP-4, infrastructure and supply chain: TLS always verified, no secret in the repository, the
RSA private key file readable by its owner only, Redis/PostgreSQL behind a password.

Already covered elsewhere, not repeated here: JSON-only Celery and a pickled message refused
(tests/security/test_policies.py), `docusign_keypair` writing 0600 and never overwriting (tests/tenants/
test_services.py). `make audit` (pip-audit, needs the network) is deliberately not a test.
"""

from __future__ import annotations

import ast
import base64
import re
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from django.core.checks import run_checks

from docusign_integration.client import errors
from docusign_integration.client import http as docusign_http
from portal import checks
from tests.sandbox_tls import self_signed_certificate
from tests.test_settings_checks import production_env, run_check  # noqa: F401 (production_env is a fixture)

ROOT = Path(__file__).resolve().parents[2]
# W003's tests point DATABASES at hosts for the check to read; no test here opens a database connection.
pytestmark = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")


def tracked_files(*patterns: str) -> list[str]:
    """`git ls-files` of the project's own files (the venv is never tracked, and is skipped if it ever were)."""
    result = subprocess.run(["git", "ls-files", "-z", "--", *patterns], cwd=ROOT, capture_output=True, text=True,
                            check=True)
    return [name for name in result.stdout.split("\0") if name and not name.startswith(".venv/")]


# --- 1. TLS verification is never turned off ------------------------------------------------------------------

# Attributes and functions whose only use is to switch certificate checking off.
UNVERIFIED_NAMES = {"_create_unverified_context", "CERT_NONE", "disable_warnings"}


def tls_switched_off(tree: ast.AST) -> list[tuple[int, str]]:
    """Every place in one module's syntax tree that turns TLS verification off, as (line, what)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in UNVERIFIED_NAMES:
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.ImportFrom) and any(alias.name in UNVERIFIED_NAMES for alias in node.names):
            found.append((node.lineno, f"from {node.module} import ..."))
        elif isinstance(node, ast.keyword) and node.arg == "verify" and _is_false(node.value):
            found.append((node.value.lineno, "verify=False"))
        elif isinstance(node, ast.Assign | ast.AnnAssign) and _is_false(node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found += [(node.lineno, f"{t.attr} = False") for t in targets
                      if isinstance(t, ast.Attribute) and t.attr in ("verify", "check_hostname")]
    return found


def _is_false(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value in (False, 0)


def test_the_scan_finds_each_way_of_turning_tls_verification_off():
    sample = """
import ssl, urllib3, requests
from ssl import CERT_NONE
requests.get(url, verify=False)
session.verify = False
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
ssl._create_unverified_context()
urllib3.disable_warnings()
"""
    assert [what for _, what in sorted(tls_switched_off(ast.parse(sample)))] == [
        "from ssl import ...", "verify=False", "verify = False", "check_hostname = False", "CERT_NONE",
        "_create_unverified_context", "disable_warnings"]
    assert tls_switched_off(ast.parse("requests.get(url, verify='/etc/ca.pem', timeout=5)\nverify = False")) == []


def test_no_python_in_the_repository_turns_tls_verification_off():
    found = [f"{name}:{line}: {what}" for name in tracked_files("*.py")
             for line, what in tls_switched_off(ast.parse((ROOT / name).read_bytes(), filename=name))]
    assert found == []


@dataclass
class HttpsServer:
    url: str
    ca_cert: Path
    requests_served: list[str]


@pytest.fixture
def https_server(tmp_path) -> Iterator[HttpsServer]:
    """An HTTPS server on loopback with a throwaway self-signed certificate that nothing trusts by default."""
    cert_path, key_path = self_signed_certificate(tmp_path)
    served: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:
            served.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    # A failed handshake is an OSError in accept(), which socketserver drops: the server carries on.
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield HttpsServer(f"https://127.0.0.1:{server.server_address[1]}", cert_path, served)
    server.shutdown()
    server.server_close()


def test_a_docusign_call_to_a_server_with_an_untrusted_certificate_fails_and_sends_nothing(https_server, settings):
    settings.DOCUSIGN_HTTP_TIMEOUT = (2.0, 2.0)
    settings.DOCUSIGN_HTTP_BACKOFF_BASE = 0.01

    with pytest.raises(errors.DocuSignError) as raised:
        docusign_http.call("GET", f"{https_server.url}/restapi/v2.1/accounts", environment="sandbox",
                           bearer="CANARY-access-token")

    assert raised.value.error_code == "TLS_ERROR" and "certificate could not be verified" in raised.value.user_message
    assert not raised.value.retryable  # a GET is retried on blips; a certificate that does not verify is no blip
    assert isinstance(raised.value.__context__, requests.exceptions.SSLError)
    assert https_server.requests_served == []  # the bearer token never left the client


def test_the_same_call_succeeds_once_the_certificate_is_trusted(https_server, settings, monkeypatch):
    # The control for the test above: the server works, so only certificate verification made that call fail.
    monkeypatch.setattr(docusign_http.session, "verify", str(https_server.ca_cert))

    response = docusign_http.call("GET", f"{https_server.url}/restapi/v2.1/accounts", environment="sandbox")

    assert response.status_code == 200
    assert https_server.requests_served == ["/restapi/v2.1/accounts"]


# --- 2. No secret in the repository ---------------------------------------------------------------------------

SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?:\r?\n|\\n)[A-Za-z0-9+/=]{32,}"),
    # A long literal assigned to a DocuSign-looking name: client secret, HMAC key, tokens, passwords.
    "secret assigned": re.compile(r"""(?i)\b\w*(?:secret|token|password|passwd|hmac_key|api_key)\w*["']?\s*[:=]\s*"""
                                  r"""[rbf]?["']([^"'\s]{20,})["']"""),
    "encryption key": re.compile(r"""PORTAL_ENCRYPTION_KEYS["']?\s*[:=,]\s*["']?([A-Za-z0-9_\-+/]{42,44}={0,2})"""),
    "AWS access key": re.compile(r"\b((?:AKIA|ASIA)[0-9A-Z]{16})\b"),
    "AWS secret key": re.compile(r"""(?i)aws_secret_access_key["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})"""),
    "Slack token": re.compile(r"\b(xox[abposr]-[0-9A-Za-z-]{10,})"),
    "GitHub token": re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})"),
    "password in a URL": re.compile(r"""\b[a-z][a-z0-9+.-]*://[^\s:/@'"]*:([^\s@/'"]{8,})@"""),
}
# A value that says it is fake, is built at run time, or is a placeholder, is not a secret.
FAKE_VALUE = re.compile(r"CANARY|test|example|change-?me|\{|^[A-Z_]+$", re.IGNORECASE)
# Known test constants that look like secrets, each allowed for a reason.
ALLOWED_VALUES = {
    # tests/settings.py's PORTAL_ENCRYPTION_KEYS: base64 of the text "test-key-0123456789abcdef0123456".
    "dGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY=",
    # Connect HMAC keys of the test worlds (tests/connect, tests/dashboard): they sign only sandbox payloads.
    "partner-secret-0123456789abcdef", "dashboard-partner-secret-0123456789", "globex-own-secret-0123456789",
    # Portal passwords of the test personas (tests/factories.py, onboarding and browser tests), never DocuSign's.
    "correct-horse-battery-staple", "a-long-portal-passphrase-7",
}


def secrets_in(text: str) -> list[tuple[int, str]]:
    """Every secret-looking value in `text` that is not a known fake, as (line, kind)."""
    found = []
    for kind, pattern in SECRET_PATTERNS.items():
        for match in pattern.finditer(text):
            value = match.group(1) if pattern.groups else match.group(0)
            if kind == "encryption key" and len(_b64decode(value)) != 32:
                continue
            if kind == "private key" or (value not in ALLOWED_VALUES and not FAKE_VALUE.search(value)):
                found.append((text.count("\n", 0, match.start()) + 1, kind))
    return found


def _b64decode(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4))
    except ValueError:
        return b""


def test_the_scan_finds_each_kind_of_secret():
    # Built by concatenation, so this file itself holds none of them.
    body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
    samples = {
        "private key": "-----BEGIN " + "RSA PRIVATE KEY-----\n" + body + "\n",
        "secret assigned": "client_" + 'secret = "8f14e45f-ceea-' + '467e-a9b7-1ac2b6d1f9a3"',
        "encryption key": "PORTAL_ENCRYPTION_" + "KEYS=" + base64.urlsafe_b64encode(bytes(range(32))).decode(),
        "AWS access key": "key = AK" + "IAQ3EGRJ7KZP2M4XWN",
        "AWS secret key": "aws_secret_" + "access_key = " + "wJalrXUtnFEMIK7MDENGbPxRfiCYzq0aF3v9dQ8H",
        "Slack token": "xo" + "xb-1234567890-abcdefghijkl",
        "GitHub token": "gh" + "p_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
        "password in a URL": "redis://:" + "s3cr3tPassw0rd" + "@redis.internal:6379/0",
    }
    for kind, sample in samples.items():
        assert [k for _, k in secrets_in(sample)] == [kind], kind
    assert secrets_in('client_secret = f"CANARY-{uuid}"\nSECRET = "short"\nredis://:PASSWORD@host/0\n'
                      "raise ValueError('-----BEGIN PRIVATE KEY----- missing')") == []


def test_no_secret_is_committed_to_the_repository():
    found = []
    for name in tracked_files():
        data = (ROOT / name).read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary (screenshots, fixtures)
        found += [f"{name}:{line}: {kind}" for line, kind in secrets_in(data.decode("utf-8", "replace"))]
    # A fake for a test: make it say so (CANARY-..., test-...), or add it to ALLOWED_VALUES with the reason.
    assert found == []


def test_local_secrets_are_ignored_by_git():
    ignored = subprocess.run(["git", "check-ignore", "--no-index", ".env", "var/sandbox/private_key.pem", "docusign.pem"],
                             cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert ignored == [".env", "var/sandbox/private_key.pem", "docusign.pem"]
    assert tracked_files(".env", "var", "*.pem", "*.key") == []


# --- 3. The RSA private key file is its owner's alone ---------------------------------------------------------

@pytest.fixture
def key_file(tmp_path, settings) -> Path:
    path = tmp_path / "docusign.pem"
    path.write_text("-----BEGIN PRIVATE KEY-----\n")
    settings.DOCUSIGN_PRIVATE_KEY = ""
    settings.DOCUSIGN_PRIVATE_KEY_FILE = str(path)
    return path


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660], ids=oct)
def test_a_private_key_file_others_can_read_is_a_warning_with_the_fix(key_file, mode):
    key_file.chmod(mode)

    [warning] = [m for m in run_checks() if m.id == "docusign.W002"]

    assert f"{mode:04o}" in warning.msg and str(key_file) in warning.msg
    assert f"chmod 400 {key_file}" in warning.hint


@pytest.mark.parametrize("mode", [0o400, 0o600], ids=oct)
def test_a_private_key_file_only_its_owner_can_read_passes(key_file, mode):
    key_file.chmod(mode)
    assert [m for m in run_checks() if m.id == "docusign.W002"] == []


# --- 5. Redis and PostgreSQL on another machine need a password -----------------------------------------------

def service_warnings() -> list[tuple[str, str]]:
    return [(m.msg.split()[0], m.msg.split()[3].rstrip(",")) for m in checks.check_service_credentials(None)]


@pytest.fixture
def local_services(settings):
    """Broker, cache and database all local; a test then moves one of them. (The check only reads DATABASES.)"""
    settings.CELERY_BROKER_URL = "memory://"
    settings.REDIS_URL = ""
    settings.DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    return settings


@pytest.mark.parametrize(("name", "url"), [
    ("CELERY_BROKER_URL", "redis://redis.internal:6379/0"),
    ("CELERY_BROKER_URL", "rediss://10.0.3.7:6380/0"),
    ("CELERY_BROKER_URL", "amqp://portal@rabbit.internal:5672//"),
    ("CELERY_BROKER_URL", "redis://:s3cr3t@127.0.0.1:6379/0;redis://replica.internal:6379/0"),
    ("REDIS_URL", "redis://cache.internal:6379/1"),
])
def test_a_broker_or_redis_on_another_machine_without_a_password_is_a_warning(local_services, name, url):
    setattr(local_services, name, url)

    [warning] = checks.check_service_credentials(None)

    assert warning.id == "docusign.W003" and warning.msg.startswith(f"{name} points at ")
    assert "requirepass" in warning.hint
    assert "s3cr3t" not in warning.msg + warning.hint  # a password elsewhere in the URL is never echoed


def test_postgresql_on_another_machine_without_a_password_is_a_warning(local_services):
    local_services.DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "portal",
                                            "USER": "portal", "PASSWORD": "", "HOST": "db.internal", "PORT": "5432"}}
    assert service_warnings() == [("DATABASE_URL", "db.internal")]

    local_services.DATABASES["default"]["PASSWORD"] = "CANARY-db-password"
    assert service_warnings() == []


@pytest.mark.parametrize(("broker", "redis", "database_host"), [
    ("memory://", "", ""),
    ("filesystem://", "redis://127.0.0.1:6379/0", "127.0.0.1"),
    ("redis://localhost:6379/0", "redis://[::1]:6379/0", "localhost"),
    ("redis://:CANARY-pw@redis.internal:6379/0", "redis://portal:CANARY-pw@cache.internal:6379/1", "/var/run/postgresql"),
])
def test_loopback_sockets_and_password_protected_services_pass(local_services, broker, redis, database_host):
    local_services.CELERY_BROKER_URL, local_services.REDIS_URL = broker, redis
    local_services.DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "portal",
                                            "USER": "portal", "PASSWORD": "", "HOST": database_host}}
    assert service_warnings() == []


def test_check_reports_a_readable_key_and_check_deploy_also_an_unauthenticated_broker(production_env):  # noqa: F811
    Path(production_env["DOCUSIGN_PRIVATE_KEY_FILE"]).chmod(0o644)
    production_env["CELERY_BROKER_URL"] = "redis://redis.internal:6379/0"

    plain = run_check(production_env, "--fail-level", "WARNING")
    deploy = run_check(production_env, "--deploy", "--fail-level", "WARNING")

    assert plain.returncode != 0 and "docusign.W002" in plain.stderr and "docusign.W003" not in plain.stderr
    assert deploy.returncode != 0 and "docusign.W002" in deploy.stderr and "docusign.W003" in deploy.stderr
    assert "chmod 400" in deploy.stderr and "requirepass" in deploy.stderr
