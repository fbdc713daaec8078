"""docs/security.md TS-2 (c): a process refuses to start when stored secrets name an encryption key it does not have.

Real processes (gunicorn, a Celery worker, `manage.py`) on a throwaway SQLite file that `migrate` created and that
`manage.py connect_hmac_key add` filled through the real service (`connect_hmac_key_add` stores the HMAC secret
encrypted under the first key).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from docusign_integration.connect.hmac import connect_hmac_key_add
from docusign_integration.keys import stored_keys
from portal.checks import check_stored_encryption_key_ids

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
START_TIMEOUT = 60.0


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def key_id(key: str) -> str:
    return hashlib.sha256(base64.urlsafe_b64decode(key)).hexdigest()[:8]


OLD, NEW = new_key(), new_key()


def portal_env(database: Path, keys: str) -> dict[str, str]:
    """The production settings module on `database`, with `keys` and an in-memory broker."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "PORTAL_", "CELERY_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "portal.settings", "DATABASE_URL": f"sqlite:///{database}",
                "PORTAL_ENCRYPTION_KEYS": keys, "SECRET_KEY": "test-only-secret-key-for-key-fingerprint-tests",
                "CELERY_BROKER_URL": "memory://"})
    return env


def manage(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, input=stdin, capture_output=True,
                          text=True, timeout=120)


@dataclass
class Started:
    """How a process ended up: `up` if it served (web) or reported ready (worker), else its exit code."""

    up: bool
    returncode: int | None
    output: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)  # noqa: S310 - loopback only
    except urllib.error.HTTPError:
        return True  # any HTTP answer means a worker booted and serves
    except OSError:
        return False
    return True


def start(command: list[str], env: dict[str, str], log: Path, is_up) -> Started:
    """Run `command` until it is up (then stop it) or exits on its own."""
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return Started(False, process.returncode, log.read_text())
            if is_up(log.read_text()):
                return Started(True, None, log.read_text())
            time.sleep(0.2)
        raise AssertionError(f"{command[:3]} neither started nor exited in {START_TIMEOUT} s:\n{log.read_text()}")
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def start_web(env: dict[str, str], log: Path) -> Started:
    port = _free_port()
    command = [str(BIN / "gunicorn"), "portal.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1",
               "--no-control-socket"]  # the default socket is one per machine: shared with other runs
    return start(command, env, log, lambda _: _answers(port))


def start_worker(env: dict[str, str], log: Path) -> Started:
    command = [str(BIN / "python"), "-m", "celery", "-A", "portal", "worker", "--pool", "solo", "-l", "INFO",
               "--without-heartbeat", "--without-mingle", "--without-gossip"]
    return start(command, env, log, lambda output: " ready." in output)


STARTERS = {"web": start_web, "worker": start_worker}


@pytest.fixture(scope="module")
def database_with_a_secret(tmp_path_factory) -> Path:
    """A migrated SQLite file holding one Connect HMAC secret encrypted under OLD."""
    database = tmp_path_factory.mktemp("keys") / "portal.sqlite3"
    env = portal_env(database, OLD)
    assert manage(env, "migrate", "--no-input", "-v", "0").returncode == 0
    added = manage(env, "connect_hmac_key", "add", "--label", "ISV key", stdin="CANARY-hmac-secret-0123456789\n")
    assert added.returncode == 0, added.stderr
    return database


@pytest.fixture
def empty_database(tmp_path) -> Path:
    database = tmp_path / "empty.sqlite3"
    assert manage(portal_env(database, NEW), "migrate", "--no-input", "-v", "0").returncode == 0
    return database


@pytest.mark.parametrize("kind", STARTERS)
def test_web_and_worker_refuse_to_start_without_the_key_of_a_stored_secret(database_with_a_secret, tmp_path, kind):
    started = STARTERS[kind](portal_env(database_with_a_secret, NEW), tmp_path / "out.log")
    assert not started.up, started.output
    assert started.returncode != 0
    assert f"key id(s) {key_id(OLD)} (1 secret(s))" in started.output
    assert "Put the old key back after the new one" in started.output and "rotate_encryption_keys" in started.output
    assert OLD not in started.output and NEW not in started.output


@pytest.mark.parametrize("kind", STARTERS)
def test_web_and_worker_start_with_the_new_key_in_front_of_the_old_one(database_with_a_secret, tmp_path, kind):
    started = STARTERS[kind](portal_env(database_with_a_secret, f"{NEW},{OLD}"), tmp_path / "out.log")
    assert started.up, started.output


@pytest.mark.parametrize("kind", STARTERS)
def test_a_fresh_empty_database_starts_without_a_warning(empty_database, tmp_path, kind):
    started = STARTERS[kind](portal_env(empty_database, NEW), tmp_path / "out.log")
    assert started.up, started.output
    assert "not migrated" not in started.output and "Could not check" not in started.output


@pytest.mark.parametrize("kind", STARTERS)
def test_an_unmigrated_database_starts_with_a_warning(tmp_path, kind):
    started = STARTERS[kind](portal_env(tmp_path / "never-migrated.sqlite3", NEW), tmp_path / "out.log")
    assert started.up, started.output
    assert "The database is not migrated yet" in started.output and "manage.py migrate" in started.output


def test_an_unreachable_database_does_not_block_the_web_start(tmp_path):
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {**portal_env(tmp_path / "unused.sqlite3", NEW), "DATABASE_URL": f"postgres://portal@127.0.0.1:{port}/portal"}
    started = start_web(env, tmp_path / "out.log")
    assert started.up, started.output
    assert "Could not check which encryption keys the stored secrets need" in started.output


def test_removing_the_old_key_is_refused_until_every_secret_is_rotated(database_with_a_secret, tmp_path):
    database = tmp_path / "rotating.sqlite3"
    shutil.copy(database_with_a_secret, database)
    refused = manage(portal_env(database, NEW), "rotate_encryption_keys")
    assert refused.returncode != 0 and key_id(OLD) in refused.stderr
    refused_start = start_web(portal_env(database, NEW), tmp_path / "before.log")
    assert not refused_start.up and key_id(OLD) in refused_start.output

    assert manage(portal_env(database, f"{NEW},{OLD}"), "rotate_encryption_keys").returncode == 0
    assert manage(portal_env(database, NEW), "rotate_encryption_keys", "--check").returncode == 0
    started = start_web(portal_env(database, NEW), tmp_path / "after.log")
    assert started.up, started.output


def test_check_database_reports_the_missing_key_id(database_with_a_secret):
    result = manage(portal_env(database_with_a_secret, NEW), "check", "--database", "default")
    assert result.returncode != 0
    assert "docusign.E009" in result.stderr and key_id(OLD) in result.stderr and "HINT" in result.stderr
    assert manage(portal_env(database_with_a_secret, f"{NEW},{OLD}"), "check", "--database", "default").returncode == 0
    # `migrate` checks the database too: a deployment with the wrong keys stops before anything starts.
    migrate = manage(portal_env(database_with_a_secret, NEW), "migrate", "--no-input")
    assert migrate.returncode != 0 and "docusign.E009" in migrate.stderr


def test_migrate_still_runs_on_a_database_that_is_not_migrated(tmp_path):
    env = portal_env(tmp_path / "fresh.sqlite3", NEW)
    result = manage(env, "migrate", "--no-input", "-v", "0")
    assert result.returncode == 0, result.stderr
    assert manage(env, "check", "--database", "default").returncode == 0


# In-process: the query behind all of the above, on the test database (SQLite, or PostgreSQL with DATABASE_URL).

@pytest.fixture
def hmac_secrets(db, settings) -> Iterator[int]:
    settings.PORTAL_ENCRYPTION_KEYS = [OLD]
    for n in range(3):
        connect_hmac_key_add(acting_user=None, environment="sandbox", label=f"key {n}", secret=f"CANARY-secret-{n:026d}")
    yield 3


def test_stored_key_ids_count_secrets_per_key_without_loading_rows(hmac_secrets, settings, django_assert_num_queries):
    settings.PORTAL_ENCRYPTION_KEYS = [NEW, OLD]
    connect_hmac_key_add(acting_user=None, environment="sandbox", label="new", secret="CANARY-secret-new-0123456789")
    columns = sum(len(entry.fields) for entry in stored_keys.encryption.registered())
    with django_assert_num_queries(1 + columns):  # the table list, then one aggregate per encrypted column
        stored = stored_keys.stored_key_ids()
    assert stored.counts[key_id(OLD)] == hmac_secrets and stored.counts[key_id(NEW)] == 1
    assert stored_keys.missing_key_ids(stored) == []
    settings.PORTAL_ENCRYPTION_KEYS = [NEW]
    assert stored_keys.missing_key_ids(stored) == [key_id(OLD)]


def test_the_system_check_names_the_missing_key_id(hmac_secrets, settings):
    settings.PORTAL_ENCRYPTION_KEYS = [NEW]
    [error] = check_stored_encryption_key_ids(None, databases=["default"])
    assert error.id == "docusign.E009" and f"{key_id(OLD)} (3 secret(s))" in error.msg
    assert check_stored_encryption_key_ids(None, databases=None) == []  # only when databases are checked
    settings.PORTAL_ENCRYPTION_KEYS = [NEW, OLD]
    assert check_stored_encryption_key_ids(None, databases=["default"]) == []


def test_rotate_refuses_up_front_while_a_stored_key_is_missing(hmac_secrets, settings):
    settings.PORTAL_ENCRYPTION_KEYS = [NEW]
    with pytest.raises(CommandError, match=key_id(OLD)):  # not a DecryptionError half-way
        call_command("rotate_encryption_keys")
