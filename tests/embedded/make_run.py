"""`make run`'s configuration, for real: `scripts/run.py` in a directory of its own, on free loopback ports.

The processes are the ones `make run` starts (the portal, the sandbox, a Celery worker and beat on the embedded
broker, SQLite files under the run's var directory); only the ports and the directory differ. Everything the
processes print goes to one log the tests read. Child processes are found under /proc (Linux).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
# What the run must not inherit from the test's own environment: it runs on its embedded defaults.
NOT_INHERITED = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE",
                 "SANDBOX_DATABASE_URL", "CELERY_TASK_ALWAYS_EAGER", "PYTEST_CURRENT_TEST")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def child_pids(pid: int) -> list[int]:
    children: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            children += [int(c) for c in (task / "children").read_text().split()]
    return children


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@dataclass
class MakeRun:
    var: Path
    portal_port: int = field(default_factory=free_port)
    sandbox_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def portal_url(self) -> str:
        return f"http://127.0.0.1:{self.portal_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://localhost:{self.sandbox_port}"

    @property
    def log_path(self) -> Path:
        return self.var.parent / "make-run.log"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
        env.update({
            "PORTAL_VAR_DIR": str(self.var),
            # As README says for commands run by hand beside `make run` (scripts/run.py sets the same for its own).
            "SANDBOX_DATABASE_URL": f"sqlite:///{self.var / 'sandbox' / 'sandbox.sqlite3'}",
            "RUN_PORTAL_ADDR": f"127.0.0.1:{self.portal_port}",
            "RUN_SANDBOX_ADDR": f"localhost:{self.sandbox_port}",
            "DOCUSIGN_SANDBOX_URL": self.sandbox_url,
            "DOCUSIGN_REDIRECT_URI": f"{self.portal_url}/docusign/callback/",
            "PORTAL_BASE_URL": self.portal_url,
            "SECRET_KEY": "make-run-test-secret-key-0123456789-0123456789-0123456789",
            "PORTAL_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def start(self, timeout: float = 120) -> MakeRun:
        self.var.mkdir(parents=True, exist_ok=True)
        self._env = self.env()
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([PY, "scripts/run.py"], cwd=ROOT, env=self._env, stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"scripts/run.py exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            if self._answers(f"{self.portal_url}/healthz") and self._answers(f"{self.sandbox_url}/login") \
                    and self.processes().keys() >= {"portal", "sandbox", "worker", "beat"}:
                return self
            time.sleep(0.5)
        self.stop()
        raise AssertionError(f"make run's configuration did not come up within {timeout} s:\n{self.log()[-3000:]}")

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            return requests.get(url, timeout=5).status_code < 500
        except requests.RequestException:
            return False

    def processes(self) -> dict[str, int]:
        """run.py's children by role: {"portal": pid, "sandbox": pid, "worker": pid, "beat": pid}."""
        roles = {"runserver": "portal", "runsandbox": "sandbox", " worker": "worker", " beat": "beat"}
        found: dict[str, int] = {}
        for pid in child_pids(self.process.pid) if self.process else []:
            line = command_line(pid)
            for marker, role in roles.items():
                if marker in line and alive(pid):
                    found[role] = pid
        return found

    def manage(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=self._env, capture_output=True, text=True,
                              timeout=timeout)
        assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def sandbox_seed(self) -> dict:
        return json.loads(self.manage("sandbox_seed", "--json"))

    def query(self, sql: str, *params: object, database: str = "portal.sqlite3") -> list[tuple]:
        """Read the run's SQLite file directly (read-only), as the processes see it."""
        with contextlib.closing(sqlite3.connect(f"file:{self.var / database}?mode=ro", uri=True, timeout=20)) as db:
            return db.execute(sql, params).fetchall()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 60) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            for pid in child_pids(self.process.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"scripts/run.py did not stop within {timeout} s of Ctrl-C") from None
