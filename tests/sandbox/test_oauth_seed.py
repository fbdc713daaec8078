"""`seed()` and `manage.py sandbox_seed`: the fixed world, idempotent, with secrets only in 0600 files."""

from __future__ import annotations

import hashlib
import json
import re
import stat
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from docusign_sandbox.models import Account, HMACKey, IntegrationKey, RSAPublicKey, User
from docusign_sandbox.seed import seed

pytestmark = pytest.mark.django_db


def _seed(tmp_path: Path) -> dict:
    return seed(integration_key="5c1f3d2e-6a1b-4c8e-9f7a-2d4b6e8a0c11", private_key_path=tmp_path / "key.pem",
                client_secret_path=tmp_path / "secret.txt", redirect_uris=["http://127.0.0.1:8000/docusign/callback/"],
                base_url="http://localhost:8001")


def test_seed_describes_the_users_and_their_consent(tmp_path):
    data = _seed(tmp_path)

    users = {u["email"]: u for u in data["users"]}
    assert users["sender@initech.example"]["consent"] == "individual"
    assert users["system@acme.example"]["consent"] == "none" and not users["system@acme.example"]["is_admin"]
    assert users["admin@acme.example"]["is_admin"]
    assert len(users["multi@globex.example"]["accounts"]) == 2
    assert users["staff@isv.example"]["is_admin"]
    assert data["oauth_host"] == "localhost:8001" and data["rest_base_uri"] == "http://localhost:8001"
    sites = {a["account_name"]: a["base_uri"] for a in data["accounts"]}
    assert sites == {"Acme Corp": "http://localhost:8001", "ISV Partner Account": "http://localhost:8001",
                     "Globex HR": "http://127.0.0.1:8001", "Globex General": "http://127.0.0.1:8001",
                     "Initech": "http://127.0.0.1:8001"}  # two sites (docs/sandbox.md "Sites")
    assert Account.objects.get(name="Acme Corp").organization.claimed_domains.get().domain == "acme.example"
    assert Account.objects.get(name="Initech").settings["envelopeIntegrationEnabled"] == "true"


def test_secrets_are_written_0600_and_only_the_secret_hash_is_stored(tmp_path):
    data = _seed(tmp_path)

    for path in (tmp_path / "key.pem", tmp_path / "secret.txt"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = IntegrationKey.objects.get()
    assert key.secret_hash == hashlib.sha256(data["client_secret"].encode()).hexdigest()
    assert (tmp_path / "secret.txt").read_text().strip() == data["client_secret"]
    assert data["client_secret"] not in key.secret_hash
    assert HMACKey.objects.filter(account=key.partner_account).count() == 2


def test_seeding_twice_changes_nothing(tmp_path):
    first = _seed(tmp_path)
    counts = (User.objects.count(), Account.objects.count(), RSAPublicKey.objects.count(), HMACKey.objects.count())

    second = _seed(tmp_path)

    assert second == first
    assert counts == (User.objects.count(), Account.objects.count(), RSAPublicKey.objects.count(),
                      HMACKey.objects.count())


def test_a_secret_file_that_does_not_match_is_replaced(tmp_path):
    first = _seed(tmp_path)
    (tmp_path / "secret.txt").write_text("someone else's secret\n")

    second = _seed(tmp_path)

    assert second["client_secret"] not in (first["client_secret"], "someone else's secret")
    assert (tmp_path / "secret.txt").read_text().strip() == second["client_secret"]


def test_the_command_prints_json_and_a_human_summary(tmp_path, settings):
    settings.DOCUSIGN_PRIVATE_KEY_FILE = str(tmp_path / "key.pem")
    settings.DOCUSIGN_CLIENT_SECRET_FILE = str(tmp_path / "secret.txt")
    out = StringIO()

    call_command("sandbox_seed", "--json", "--base-url", "http://127.0.0.1:9001", stdout=out)
    data = json.loads(out.getvalue())
    summary = StringIO()
    call_command("sandbox_seed", stdout=summary)

    assert data["oauth_host"] == "127.0.0.1:9001"
    assert "system@acme.example" in summary.getvalue() and "sandbox-password-1" in summary.getvalue()
    assert re.search(r"Initech +http://127\.0\.0\.1:8001\n", summary.getvalue())  # the second site of localhost:8001
    assert data["client_secret"] not in summary.getvalue()
