"""The soak's real processes: a throwaway PostgreSQL database, its own redis-server, the sandbox, gunicorn, Celery.

Every process runs in its own process group so that stopping it (or SIGKILLing a worker) takes its children too;
`Stack.stop()` is safe to call at any point, twice, and after a failed start.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(sys.executable).parent
STOP_SECONDS = 15


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(check, what: str, timeout: float) -> None:
    """Poll `check()` until it is truthy; SystemExit naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # not up yet: refused connection, still importing Django, ...
            if check():
                return
        time.sleep(0.2)
    raise SystemExit(f"{what} not ready within {timeout:.0f} s")


def _http_ok(url: str) -> bool:
    return requests.get(url, timeout=2).status_code < 500


def _psql(admin_url: str, statement: str) -> None:
    subprocess.run(["psql", admin_url, "-v", "ON_ERROR_STOP=1", "-qAtc", statement], check=True, timeout=60)


def drop_database(admin_url: str, name: str) -> None:
    """Drop `name` on the PostgreSQL server of `admin_url` (a URL of another database on it), connections and all."""
    _psql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def recreate_database(admin_url: str, name: str) -> None:
    """A new, empty `name`: whatever an earlier run left is gone."""
    drop_database(admin_url, name)
    _psql(admin_url, f'CREATE DATABASE "{name}"')


@dataclass
class Stack:
    """The processes of one soak run; `env` is the settings environment every one of them gets."""

    env: dict[str, str]
    tmp: Path
    redis_port: int
    sandbox_ports: list[int]  # the first serves the REST API the portal calls; each sends the Connect messages of its changes
    portal_port: int
    workers: int = 2
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    worker_starts: int = 0

    @property
    def access_log(self) -> Path:
        return self.tmp / "gunicorn-access.log"

    def _start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it; closed with the process
        process = subprocess.Popen(command, cwd=ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.processes[name] = process
        return process

    def manage(self, *args: str, timeout: float = 600) -> str:
        """Run `manage.py args` with the soak's settings; its output, or SystemExit with it on failure."""
        done = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode:
            raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    # --- Redis: the soak's own server, so stopping it touches nothing else on the machine ---------------

    def start_redis(self) -> None:
        # AOF with fsync every second, as a production broker runs: a clean stop keeps the queued tasks.
        self._start("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--dir", str(self.tmp),
                              "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""])
        wait_until(lambda: subprocess.run(["redis-cli", "-p", str(self.redis_port), "ping"], capture_output=True,
                                          timeout=5).stdout.strip() == b"PONG", "redis-server", 20)

    def stop_redis(self) -> None:
        self._stop("redis")

    # --- The sandbox and the portal ---------------------------------------------------------------------------

    @property
    def sandbox_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.sandbox_ports]

    def start_sandbox(self) -> None:
        """The sandbox processes on one database. Each sends Connect messages from one thread, as DocuSign runs several
        senders: the changes a process makes are published by that process."""
        for number, port in enumerate(self.sandbox_ports, start=1):
            self._start(f"sandbox{number}", [PYTHON, "manage.py", "runsandbox", f"127.0.0.1:{port}", "--control"])
        for url in self.sandbox_urls:
            wait_until(lambda url=url: _http_ok(f"{url}/_sandbox/clock"), f"the sandbox at {url}", 60)

    def start_portal(self, workers: int = 3) -> None:
        # %(D)s: microseconds the worker spent on the request, for every POST, including the sandbox's own.
        self._start("gunicorn", [str(BIN / "gunicorn"), "portal.wsgi:application", "--bind", f"127.0.0.1:{self.portal_port}",
                                 "--workers", str(workers), "--timeout", "60", "--access-logfile", str(self.access_log),
                                 "--access-logformat", '%(m)s %(U)s %(s)s %(D)s "%(a)s"'])
        wait_until(lambda: requests.get(f"http://127.0.0.1:{self.portal_port}/healthz", timeout=2).status_code == 200,
                   "gunicorn", 60)

    # --- Celery --------------------------------------------------------------------------------------------------

    def start_worker(self, number: int) -> None:
        self.worker_starts += 1
        self._start(f"worker{number}", [PYTHON, "-m", "celery", "-A", "portal", "worker", "-l", "WARNING", "-c", "2",
                                        "-n", f"soak{number}-{self.worker_starts}@%h", "--without-gossip", "--without-mingle"])

    def kill_worker(self, number: int) -> None:
        """SIGKILL the worker and its pool processes at once: no warm shutdown, no acknowledgement of what ran."""
        process = self.processes.pop(f"worker{number}", None)
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_SECONDS)

    def start_beat(self) -> None:
        self._start("beat", [PYTHON, "-m", "celery", "-A", "portal", "beat", "-l", "WARNING",
                             "-s", str(self.tmp / "celerybeat-schedule")])

    def start_all(self) -> None:
        self.start_sandbox()
        self.start_portal()
        for number in range(1, self.workers + 1):
            self.start_worker(number)
        self.start_beat()

    # --- Stopping --------------------------------------------------------------------------------------------------

    def _stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_SECONDS)

    def stop(self) -> None:
        """Stop everything still running, web and workers first, Redis last."""
        for name in sorted(self.processes, key=lambda n: n == "redis"):
            self._stop(name)

    def restart_exited_workers(self) -> list[str]:
        """Restart Celery processes that exited on their own, as a supervisor (systemd, Kubernetes) would; their names."""
        exited = [name for name in self.dead() if name.startswith("worker") or name == "beat"]
        for name in exited:
            self.processes.pop(name)
            if name == "beat":
                self.start_beat()
            else:
                self.start_worker(int(name.removeprefix("worker")))
        return exited

    def dead(self) -> list[str]:
        """Processes that exited on their own (a crash is worth failing the run for)."""
        return [name for name, process in self.processes.items() if process.poll() is not None]
