"""Issue 12 item 9: in `make run` the sandbox's secrets never sit in the portal's database, even in plaintext.

`make run`'s configuration (both databases migrated, the sandbox seeded, the demo seeded, a real JWT consent check
that makes the sandbox issue an access token) runs; then the portal's SQLite file is read as an attacker with a copy
of it would: its raw bytes (with its write-ahead log) and a SQL dump. None of the sandbox's client secret, private
key, HMAC secrets, password hashes or issued token (hashes included) appears; the portal's own encrypted columns
hold only ciphertexts.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3

import pytest

from tests.embedded.make_run import MakeRun

pytestmark = pytest.mark.make_run

CIPHERTEXT = re.compile(r"v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+=*")
SHOW_ENCRYPTED_COLUMNS = """
import json
from docusign_integration.keys import encryption
print(json.dumps([[e.model._meta.db_table, e.model._meta.get_field(f).column] for e in encryption.registered()
                  for f in e.fields]))
"""
SHOW_ISSUED_TOKENS = """
import json
from docusign_integration.models import CachedAccessToken
print(json.dumps([row.get_access_token() for row in CachedAccessToken.objects.exclude(access_token_ciphertext="")]))
"""

# Read through the sandbox's models, so from wherever its database is.
SHOW_SANDBOX_SECRETS = """
import json
from docusign_sandbox import models
print(json.dumps({
    "access token hash": list(models.AccessToken.objects.values_list("token_hash", flat=True)),
    "user password hash": list(models.User.objects.values_list("password", flat=True)),
    "client secret hash": list(models.IntegrationKey.objects.exclude(secret_hash="").values_list("secret_hash", flat=True)),
    "HMAC secret": list(models.HMACKey.objects.values_list("secret", flat=True)),
}))
"""


def portal_database_dump(run: MakeRun) -> bytes:
    """What a copy of the portal's database holds: the file, its write-ahead log, and the SQL that rebuilds it."""
    files = [run.var / name for name in ("portal.sqlite3", "portal.sqlite3-wal")]
    raw = b"".join(path.read_bytes() for path in files if path.exists())
    with contextlib.closing(sqlite3.connect(f"file:{files[0]}?mode=ro", uri=True)) as db:
        dump = "\n".join(db.iterdump())
    return raw + dump.encode()


def sandbox_secrets(run: MakeRun) -> dict[str, str]:
    seed = run.sandbox_seed()
    secrets = {"client secret": (run.var / "sandbox" / "client_secret.txt").read_text().strip()}
    key_lines = [line for line in (run.var / "sandbox" / "private_key.pem").read_text().splitlines()
                 if line and not line.startswith("-----")]
    secrets |= {f"private key line {n}": line for n, line in enumerate(key_lines[1:-1], start=2)}
    secrets |= {f"HMAC secret {key['key_id']}": key["secret"] for key in seed["hmac_keys"]}
    tokens = json.loads(run.manage("shell", "-c", SHOW_ISSUED_TOKENS).splitlines()[-1])
    assert tokens, "the consent check made the sandbox issue no token"
    secrets |= {f"issued access token {n}": token for n, token in enumerate(tokens)}
    # What only the sandbox's own database may hold: hashes of the tokens it issued and of its users' passwords...
    held = json.loads(run.manage("shell", "-c", SHOW_SANDBOX_SECRETS).splitlines()[-1])
    for name, values in held.items():
        assert values, f"the sandbox holds no {name}"
        secrets |= {f"{name} #{n}": value for n, value in enumerate(values)}
    return secrets


def test_a_copy_of_the_portals_database_holds_none_of_the_sandboxs_secrets(make_run, initech):
    secrets = sandbox_secrets(make_run)
    dump = portal_database_dump(make_run)

    found = [name for name, secret in secrets.items() if secret.encode() in dump]
    assert found == [], f"the portal's database holds the sandbox's {', '.join(found)}"
    tables = {name for (name,) in make_run.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert not {t for t in tables if t.startswith("docusign_sandbox_")}


def test_the_portals_encrypted_columns_hold_only_ciphertexts(make_run, initech):
    columns = json.loads(make_run.manage("shell", "-c", SHOW_ENCRYPTED_COLUMNS).splitlines()[-1])
    values = {(table, column): [v for (v,) in make_run.query(f"SELECT {column} FROM {table}") if v]  # noqa: S608
              for table, column in columns}

    assert values[("docusign_integration_connecthmackey", "secret_ciphertext")]  # seed_demo's partner keys
    assert values[("docusign_integration_cachedaccesstoken", "access_token_ciphertext")]  # the consent check's token
    not_ciphertext = {place: v[:12] for place, rows in values.items() for v in rows if not CIPHERTEXT.fullmatch(v)}
    assert not_ciphertext == {}
