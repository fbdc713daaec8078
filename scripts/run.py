"""`make run`: the whole product on embedded defaults, stopped with one Ctrl-C.

First start writes `.env` with a fresh SECRET_KEY and encryption key; every start migrates, seeds the
sandbox and the demo data (idempotently), then runs the portal (:8000), the sandbox (localhost:8001), a
Celery worker and Celery beat on a filesystem broker. Ctrl-C (or SIGTERM) stops all of them.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# Overridable so that a test can run this very configuration on free ports in a directory of its own.
PORTAL = os.environ.get("RUN_PORTAL_ADDR", "127.0.0.1:8000")
SANDBOX = os.environ.get("RUN_SANDBOX_ADDR", "localhost:8001")
VAR = Path(os.environ.get("PORTAL_VAR_DIR") or ROOT / "var")  # the settings read the same variable


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
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, check=True)


def main() -> int:
    ensure_env_file()
    for folder in ("celery-broker/queue", "celery-broker/processed", "celery-broker/control", "sandbox", "media"):
        (VAR / folder).mkdir(parents=True, exist_ok=True)
    manage("migrate", "--no-input", "-v", "0")
    manage("sandbox_seed")
    manage("seed_demo")
    commands = {
        "portal": [PY, "manage.py", "runserver", PORTAL, "--noreload"],
        "sandbox": [PY, "manage.py", "runsandbox", SANDBOX],
        "worker": [PY, "-m", "celery", "-A", "portal", "worker", "-l", "INFO", "-c", "2"],
        "beat": [PY, "-m", "celery", "-A", "portal", "beat", "-l", "INFO"],
    }
    processes: dict[str, subprocess.Popen] = {}
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for name, command in commands.items():
        # Each in its own process group, so that stopping reaches their children (Celery's pool) too.
        processes[name] = subprocess.Popen(command, cwd=ROOT, start_new_session=True)
    print(f"\nPortal:  http://{PORTAL}/admin/   (staff sign-in printed above)")
    print(f"Sandbox: http://{SANDBOX}/_sandbox/  (DocuSign's pages and a console)")
    print("Ctrl-C stops everything.\n")
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"{name} exited with {process.returncode}; stopping the rest")
                exit_code = process.returncode or 1
                stopping = True
        time.sleep(0.5)
    for process in processes.values():
        if process.poll() is None:
            # The leader only: Celery's warm shutdown stops its own pool; a group signal would kill it mid-task.
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for process in processes.values():
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # anything the process left behind in its group
    print("stopped")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
