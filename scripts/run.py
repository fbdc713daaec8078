"""`make run`: the whole product on embedded defaults, stopped with one Ctrl-C.

First start writes `.env` with a fresh SECRET_KEY and encryption key; every start migrates the portal's and the
sandbox's databases (two SQLite files), seeds the sandbox and the demo data (idempotently), then runs the portal
(:8000), the sandbox (localhost:8001), a Celery worker and Celery beat on the embedded broker (a third SQLite file).
A process that dies is started again, after a wait that grows while it keeps dying; Ctrl-C (or SIGTERM) stops all.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# Overridable so that a test can run this very configuration on free ports in a directory of its own.
PORTAL = os.environ.get("RUN_PORTAL_ADDR", "127.0.0.1:8000")
SANDBOX = os.environ.get("RUN_SANDBOX_ADDR", "localhost:8001")
VAR = Path(os.environ.get("PORTAL_VAR_DIR") or ROOT / "var")  # the settings read the same variable
# The sandbox's own database, so that none of its secrets sits in the portal's (docusign_sandbox.router).
# The URLs the portal and the sandbox derive from the two addresses follow them when the ports change (the settings'
# defaults are 8000 and 8001); a variable set in the environment or .env still wins.
ENV = {"SANDBOX_DATABASE_URL": f"sqlite:///{VAR / 'sandbox' / 'sandbox.sqlite3'}",
       **({"DOCUSIGN_SANDBOX_URL": f"http://{SANDBOX}", "PORTAL_BASE_URL": f"http://{PORTAL}",
           "DOCUSIGN_REDIRECT_URI": f"http://{PORTAL}/docusign/callback/"}
          if (PORTAL, SANDBOX) != ("127.0.0.1:8000", "localhost:8001") else {}),
       **os.environ}
# Seconds before a process that died is started again: the first entry, then one entry further each time it dies
# again within RESTART_WINDOW seconds of its start (a crash loop must not spin the machine).
RESTART_WAITS = (1, 2, 5, 10, 30)
RESTART_WINDOW = 60


def ensure_env_file() -> None:
    env_file = ROOT / ".env"
    if env_file.exists() or {"SECRET_KEY", "PORTAL_ENCRYPTION_KEYS"} <= os.environ.keys():
        return
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    env_file.write_text(
        "# Written by `make run` on first start; see .env.example for every setting.\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
        f"PORTAL_ENCRYPTION_KEYS={key}\n"
    )
    env_file.chmod(0o600)
    print("wrote .env with a new SECRET_KEY and encryption key")


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=ENV, check=True)


@dataclass
class Supervised:
    """One of make run's processes: its command, the running process (None while it waits to be started again)."""

    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_deaths: int = 0  # deaths in a row, each within RESTART_WINDOW of its start
    start_at: float = 0.0

    def start(self) -> None:
        # Its own process group, so that stopping reaches its children (Celery's pool) too.
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=ENV, start_new_session=True)
        self.started_at = time.monotonic()

    def reap(self) -> bool:
        """If the process died: clear what it left in its group, schedule the restart, say so; True then."""
        if self.process is None or self.process.poll() is None:
            return False
        pid, code = self.process.pid, self.process.returncode
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)  # a dead worker's pool must not hold a database lock or a task
        now = time.monotonic()
        self.quick_deaths = self.quick_deaths + 1 if now - self.started_at < RESTART_WINDOW else 0
        wait = RESTART_WAITS[min(max(self.quick_deaths - 1, 0), len(RESTART_WAITS) - 1)]
        self.process, self.start_at = None, now + wait
        often = (f" (it died {self.quick_deaths} times in a row, each within {RESTART_WINDOW} s of its start)"
                 if self.quick_deaths > 1 else "")
        print(f"{self.name} (pid {pid}) died with exit code {code}{often}; restarting it in {wait} s", flush=True)
        return True

    def restart_when_due(self) -> None:
        if self.process is None and time.monotonic() >= self.start_at:
            self.start()
            print(f"{self.name} restarted (pid {self.process.pid})", flush=True)


def main() -> int:
    ensure_env_file()
    for folder in ("sandbox", "media"):
        (VAR / folder).mkdir(parents=True, exist_ok=True)
    manage("migrate", "--no-input", "-v", "0")
    manage("migrate", "--database", "sandbox", "--no-input", "-v", "0")
    manage("sandbox_seed")
    manage("seed_demo")
    supervised = [
        Supervised("portal", [PY, "manage.py", "runserver", PORTAL, "--noreload"]),
        Supervised("sandbox", [PY, "manage.py", "runsandbox", SANDBOX, "--control"]),
        Supervised("worker", [PY, "-m", "celery", "-A", "portal", "worker", "-l", "INFO", "-c", "2"]),
        Supervised("beat", [PY, "-m", "celery", "-A", "portal", "beat", "-l", "INFO"]),
    ]
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for each in supervised:
        each.start()
    print(f"\nPortal:  http://{PORTAL}/admin/   (staff sign-in printed above)")
    print(f"Sandbox: http://{SANDBOX}/_sandbox/  (DocuSign's pages and a console)")
    print("Ctrl-C stops everything.\n", flush=True)
    while not stopping:
        for each in supervised:
            each.reap()
            if not stopping:
                each.restart_when_due()
        time.sleep(0.5)
    running = [each.process for each in supervised if each.process is not None]
    for process in running:
        if process.poll() is None:
            # The leader only: Celery's warm shutdown stops its own pool; a group signal would kill it mid-task.
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for process in running:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # anything the process left behind in its group
    print("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
