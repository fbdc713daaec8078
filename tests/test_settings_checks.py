"""Start-up checks: a production profile passes `check --deploy`, misconfiguration fails with an id."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parent.parent
KEY = "dGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY="


@pytest.fixture
def production_env(tmp_path: Path) -> dict[str, str]:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "docusign.pem"
    key_file.write_bytes(private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key_file.chmod(0o600)  # as `docusign_keypair` writes it: readable by others would be docusign.W002
    secret_file = tmp_path / "client_secret"
    secret_file.write_text("a-client-secret")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCUSIGN_", "DJANGO_", "DATABASE_URL"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "False",
        "SECRET_KEY": "p" * 20 + "-production-secret-key-with-enough-entropy-7f3a9c",
        "ALLOWED_HOSTS": "portal.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PORTAL_ENCRYPTION_KEYS": KEY,
        "DOCUSIGN_ENVIRONMENTS": "demo,production",
        "DOCUSIGN_INTEGRATION_KEY": "5c1f3d2e-6a1b-4c8e-9f7a-2d4b6e8a0c11",
        "DOCUSIGN_PRIVATE_KEY_FILE": str(key_file),
        "DOCUSIGN_CLIENT_SECRET_FILE": str(secret_file),
        "DOCUSIGN_REDIRECT_URI": "https://portal.example.com/docusign/callback/",
    })
    return env


def run_check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "check", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_production_profile_passes_check_deploy_without_warnings(production_env):
    result = run_check(production_env, "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("change", "check_id"),
    [
        ({"PORTAL_ENCRYPTION_KEYS": ""}, "docusign.E007"),
        ({"PORTAL_ENCRYPTION_KEYS": "c2hvcnQ="}, "docusign.E008"),
        ({"DOCUSIGN_ENVIRONMENTS": "staging"}, "docusign.E001"),
        ({"DOCUSIGN_INTEGRATION_KEY": "not-a-guid"}, "docusign.E002"),
        ({"DOCUSIGN_PRIVATE_KEY_FILE": "/nonexistent/key.pem"}, "docusign.E003"),
        ({"DOCUSIGN_CLIENT_SECRET_FILE": "/nonexistent/secret"}, "docusign.E005"),
        ({"DOCUSIGN_REDIRECT_URI": "http://portal.example.com/docusign/callback/"}, "docusign.E006"),
        ({"CELERY_BROKER_URL": "redis://:pw@127.0.0.1:6379/0", "CELERY_VISIBILITY_TIMEOUT": "1800"}, "docusign.E010"),
    ],
)
def test_misconfiguration_fails_at_start_up_with_an_id_and_a_fix(production_env, change, check_id):
    production_env.update(change)
    result = run_check(production_env)
    assert result.returncode != 0
    assert check_id in result.stderr
    assert "HINT" in result.stderr


def test_the_sandbox_in_a_production_profile_is_a_deploy_warning(production_env):
    production_env["DOCUSIGN_ENVIRONMENTS"] = "sandbox"
    result = run_check(production_env, "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "docusign.W001" in result.stderr


def settings_values(env: dict[str, str], *names: str) -> list[str]:
    """repr() of the named settings as `manage.py` in this environment sees them."""
    code = "from django.conf import settings; " + "; ".join(f"print(repr(settings.{name}))" for name in names)
    result = subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_the_production_profile_requires_staff_two_factor_and_throttles_sign_in(production_env):
    require_otp, last_middleware, first_backend = settings_values(
        production_env, "PORTAL_STAFF_REQUIRE_OTP", "MIDDLEWARE[-1]", "AUTHENTICATION_BACKENDS[0]")

    assert require_otp == "True"
    assert last_middleware == "'axes.middleware.AxesMiddleware'"
    assert first_backend == "'axes.backends.AxesStandaloneBackend'"


def test_the_make_run_profile_leaves_staff_two_factor_off_unless_asked(production_env):
    del production_env["DEBUG"]  # make run's embedded default is DEBUG=True
    assert settings_values(production_env, "PORTAL_STAFF_REQUIRE_OTP") == ["False"]

    production_env["PORTAL_STAFF_REQUIRE_OTP"] = "True"
    assert settings_values(production_env, "PORTAL_STAFF_REQUIRE_OTP") == ["True"]
