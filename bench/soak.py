"""Soak: thousands of Connect deliveries through the real stack under faults; figures to docs/reliability.md (issue 8).

Runs PostgreSQL (a fresh `portal_soak` database), a dedicated redis-server, the sandbox, gunicorn and two Celery
workers plus beat, all on loopback. While envelopes move through DocuSign's lifecycle the sandbox drops 10% of its
Connect messages, a relay reorders 10% and duplicates 20% of the rest, a worker is SIGKILLed every few hundred
applied events and restarted, and the broker is stopped for 60 s. Then the queues drain, the fallback sync runs once,
and the portal's envelopes are compared with the sandbox's. The last line is `name=value` figures.

    .venv/bin/python bench/soak.py [--deliveries 10000] [--quick] [--report docs/reliability.md]

--quick: 1,000 messages, a 10 s outage and a kill every 100 applied events, no report unless --report is given.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.soak_processes import Stack, drop_database, free_port, recreate_database, wait_until  # noqa: E402
from bench.soak_relay import Relay  # noqa: E402

DATABASE = "portal_soak"
ADMIN_DATABASE_URL = os.environ.get("SOAK_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DRAIN_SECONDS = 420  # the sweeper runs every 60 s and takes events over a minute old: a few rounds at most
FLUSH_SECONDS = 900
SANDBOX_PROCESSES = 3


def _environment(tmp: Path, redis_port: int, sandbox_url: str, relay_url: str) -> dict[str, str]:
    """Settings for every process, through environment variables only."""
    base = ADMIN_DATABASE_URL.rsplit("/", 1)[0]
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DOCUSIGN_", "CELERY_"))},
        "DJANGO_SETTINGS_MODULE": "portal.settings", "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"{base}/{DATABASE}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/5",  # a dedicated server and database number
        "REDIS_URL": "", "CACHE_URL": "",  # the broker is the only thing the outage takes away
        "DOCUSIGN_SANDBOX_URL": sandbox_url,
        "DOCUSIGN_ENVIRONMENTS": "sandbox",
        "PORTAL_BASE_URL": relay_url,  # DocuSign reaches the portal through the relay, as through a load balancer
        "DOCUSIGN_REDIRECT_URI": f"{relay_url}/docusign/callback/",
        "PORTAL_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DOCUSIGN_PRIVATE_KEY_FILE": str(tmp / "private_key.pem"),  # written by sandbox_seed
        "DOCUSIGN_CLIENT_SECRET_FILE": str(tmp / "client_secret.txt"),
        "DEBUG": "False", "SECURE_SSL_REDIRECT": "False",  # production settings, plain HTTP on loopback
        "MEDIA_ROOT": str(tmp / "media"), "STATIC_ROOT": str(tmp / "static"),
        "LOG_LEVEL": "WARNING",  # the listener logs every message at INFO
    }


class Chaos(threading.Thread):
    """Kills a worker every `kill_every` applied events and stops the broker once for `outage` seconds."""

    def __init__(self, stack: Stack, relay: Relay, *, kill_every: int, outage: float, outage_at: int) -> None:
        super().__init__(name="chaos", daemon=True)
        self.stack, self.relay = stack, relay
        self.kill_every, self.outage, self.outage_at = kill_every, outage, outage_at
        self.kills = 0
        self.exits: list[str] = []  # Celery processes that exited without being killed, restarted like the others
        self.outage_window: tuple[float, float] | None = None
        self.error: BaseException | None = None
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()
        self.join(self.outage + 30)

    def run(self) -> None:
        from django.db import close_old_connections

        from docusign_integration.connect.models import ConnectEventState
        from docusign_integration.models import ConnectEvent

        next_kill = self.kill_every
        try:
            while not self._halt.wait(0.5):
                if exited := self.stack.restart_exited_workers():
                    print(f"[{_clock()}] exited on their own, restarted: {', '.join(exited)}", file=sys.stderr)
                    self.exits += exited
                if self.outage_window is None and self.relay.received >= self.outage_at:
                    self._broker_outage()
                    continue
                applied = ConnectEvent.objects.filter(state=ConnectEventState.APPLIED).count()
                if applied >= next_kill:
                    number = self.kills % self.stack.workers + 1
                    self.stack.kill_worker(number)
                    self.stack.start_worker(number)  # as a supervisor would, at once
                    self.kills += 1
                    next_kill = applied + self.kill_every
        except BaseException as exc:  # reported by the main thread, which owns the cleanup
            self.error = exc
        finally:
            close_old_connections()

    def _broker_outage(self) -> None:
        start = time.monotonic()
        print(f"[{_clock()}] broker stopped for {self.outage:.0f} s", file=sys.stderr)
        self.stack.stop_redis()
        self._halt.wait(self.outage)
        self.stack.start_redis()
        self.outage_window = (start, time.monotonic())
        print(f"[{_clock()}] broker back", file=sys.stderr)


_started = time.monotonic()


def _clock() -> str:
    return f"{time.monotonic() - _started:6.0f}s"


def _flush_sandbox(sandbox_urls: list[str]) -> None:
    """Wait until every sandbox process has attempted every Connect message it queued."""
    deadline = time.monotonic() + FLUSH_SECONDS
    waiting = list(sandbox_urls)
    while waiting and time.monotonic() < deadline:
        answer = requests.post(f"{waiting[0]}/_sandbox/connect/flush", json={"timeout": 20}, timeout=60).json()
        if answer.get("flushed"):
            waiting.pop(0)
    if waiting:
        raise SystemExit(f"the sandbox did not send its Connect messages within {FLUSH_SECONDS} s")


def _wait_for_drain(seconds: float) -> float:
    """Wait until no stored event is waiting for processing; how long it took."""
    from django.db import close_old_connections

    from docusign_integration.connect.models import ConnectEventState
    from docusign_integration.models import ConnectEvent

    started = time.monotonic()

    def drained() -> bool:
        close_old_connections()
        return not ConnectEvent.objects.filter(state=ConnectEventState.RECEIVED).exists()

    wait_until(drained, "the Connect queue", seconds)
    return time.monotonic() - started


def run(args: argparse.Namespace, tmp: Path) -> int:
    timeline: list[tuple[str, float]] = []
    mark = time.monotonic()

    def phase(name: str) -> None:
        nonlocal mark
        timeline.append((name, time.monotonic() - mark))
        print(f"[{_clock()}] {name} done", file=sys.stderr)
        mark = time.monotonic()

    redis_port, portal_port = free_port(), free_port()
    sandbox_ports = [free_port() for _ in range(SANDBOX_PROCESSES)]
    relay = Relay(f"http://127.0.0.1:{portal_port}/docusign/connect/", duplicate=0.20, reorder=0.10, seed=args.seed)
    env = _environment(tmp, redis_port, f"http://127.0.0.1:{sandbox_ports[0]}", relay.url)
    stack = Stack(env, tmp, redis_port, sandbox_ports, portal_port)
    chaos: Chaos | None = None
    try:
        recreate_database(ADMIN_DATABASE_URL, DATABASE)
        stack.start_redis()
        stack.manage("migrate", "--no-input")
        stack.manage("sandbox_seed")
        relay.start()
        stack.start_sandbox()
        stack.start_portal()
        os.environ.update(env)
        import django

        django.setup()
        from bench import soak_report, soak_world

        organizations = soak_world.build_world(env["DOCUSIGN_SANDBOX_URL"])
        requests.post(f"{env['DOCUSIGN_SANDBOX_URL']}/_sandbox/connect/drop", json={"percent": 10},
                      timeout=10).raise_for_status()
        for number in range(1, stack.workers + 1):
            stack.start_worker(number)
        stack.start_beat()
        phase("start and set up")

        rng = random.Random(args.seed)
        random.seed(args.seed)
        plans = soak_world.plan_traffic(organizations, args.deliveries, rng)
        chaos = Chaos(stack, relay, kill_every=args.kill_every, outage=args.outage_seconds,
                      outage_at=int(args.deliveries * 0.35))
        chaos.start()
        driver = soak_world.Driver(stack.sandbox_urls)
        reported = [0]

        def progress(done: int) -> None:
            if done - reported[0] >= args.deliveries // 10:
                reported[0] = done
                print(f"[{_clock()}] {done:,} messages published; relay received {relay.received:,}; "
                      f"{chaos.kills} worker kills", file=sys.stderr)
                if dead := [name for name in stack.dead() if not name.startswith(("worker", "beat"))]:
                    raise SystemExit(f"processes exited on their own: {', '.join(dead)} (logs in {tmp})")

        driver.run(plans, args.seed, progress)
        phase(f"traffic ({len(plans):,} envelopes)")
        _flush_sandbox(stack.sandbox_urls)
        if not relay.wait_empty(120):
            raise SystemExit("the relay still holds messages after 120 s")
        phase("deliveries")
        chaos.stop()
        if chaos.error is not None:
            raise chaos.error
        phase_drain = _wait_for_drain(DRAIN_SECONDS)
        phase("queues drained (incl. sweeper)")
        before_sync, _ = soak_report.status_mismatches(organizations)
        print(stack.manage("sync_envelopes", "--all").strip().splitlines()[-1], file=sys.stderr)
        phase("fallback sync")

        published, dropped, failed = soak_report.sandbox_deliveries(organizations)
        mismatched, unknown = soak_report.status_mismatches(organizations)
        duplicates, backwards = soak_report.double_applied(organizations)
        from docusign_integration.models import ConnectEvent
        from docusign_sandbox.models import Envelope as SandboxEnvelope

        figures = soak_report.Figures(
            envelopes=SandboxEnvelope.objects.count(), published=published, dropped=dropped, sandbox_failed=failed,
            stored_events=ConnectEvent.objects.count(),
            events_by_state=dict(Counter(ConnectEvent.objects.values_list("state", flat=True))),
            acks=relay.acks, outage_window=chaos.outage_window, repaired_by_sync=before_sync - mismatched,
            lost=soak_report.acknowledged_not_applied(relay.acknowledged) + relay.undeliverable + unknown,
            double_applied=duplicates, regressed=backwards, mismatched=mismatched,
            server_ack_ms=soak_report.server_ack_ms(stack.access_log))
        parameters = [
            ("Connect messages planned (`--deliveries`)", f"{args.deliveries:,}"),
            ("Dropped by the sandbox, repaired by the fallback sync", "10%"),
            ("Duplicated / held back and delivered out of order", "20% / 10%"),
            ("Worker SIGKILLed and restarted", f"every {args.kill_every} applied events ({chaos.kills} kills)"),
            ("Celery processes that exited on their own (restarted)", ", ".join(chaos.exits) or "none"),
            ("Broker (redis-server) stopped", f"{args.outage_seconds:.0f} s, after {int(args.deliveries * 0.35):,} "
                                              "messages reached the relay"),
            ("Processes", f"gunicorn 3 sync workers; 2 Celery workers x 2 processes; beat; {SANDBOX_PROCESSES} sandboxes; "
                          "PostgreSQL; Redis"),
            ("Seed", str(args.seed)),
        ]
        timeline.append(("of which waiting for the sweeper", phase_drain))
        for name, value in figures.table():
            print(f"{name.replace('**', ''):<55} {value.replace('**', '')}")
        if args.report:
            command = "bench/soak.py" + (f" --deliveries {args.deliveries}" if args.deliveries != 10_000 else "")
            soak_report.write_markdown(args.report, figures, parameters, timeline, command)
            print(f"wrote {args.report}", file=sys.stderr)
        print(figures.line())
        return 0 if all(getattr(figures, name) == 0 for name in ("lost", "mismatched")) and not (
            figures.double_applied or figures.regressed) else 1
    finally:
        if chaos is not None and chaos.is_alive():
            chaos.stop()
        relay.stop()
        stack.stop()
        if not args.keep_database:
            if "django.db" in sys.modules:
                sys.modules["django.db"].connections.close_all()
            drop_database(ADMIN_DATABASE_URL, DATABASE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=None, help="Connect messages to publish (default 10,000)")
    parser.add_argument("--quick", action="store_true", help="1,000 messages, a 10 s outage, a kill every 100 events")
    parser.add_argument("--report", type=Path, default=None, help="markdown to write (default docs/reliability.md; "
                                                                  "none with --quick)")
    parser.add_argument("--seed", type=int, default=20260801)
    parser.add_argument("--keep-database", action="store_true", help=f"keep {DATABASE} and the logs for inspection")
    args = parser.parse_args()
    args.deliveries = args.deliveries or (1_000 if args.quick else 10_000)
    args.outage_seconds = 10.0 if args.quick else 60.0
    args.kill_every = 100 if args.quick else 300
    if args.report is None and not args.quick:
        args.report = ROOT / "docs" / "reliability.md"
    tmp = Path(tempfile.mkdtemp(prefix="soak-"))
    try:
        return run(args, tmp)
    finally:
        if not args.keep_database:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"logs and files kept in {tmp}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
