"""Outbound events under faults: 10,000 events through real Celery workers (Redis db 7, PostgreSQL) to a receiver that
answers 500 to 20% of requests, hangs past the read timeout on 5% and drops 5% of connections, with two worker SIGKILLs.

    .venv/bin/python bench/outbound.py [--events 10000] [--rate 80]

The retry schedule is scaled down so the run takes minutes, not days (production values in parentheses): connect
timeout 1 s (3 s), read timeout 1 s (10 s), backoff base 0.5 s (5 s), cap 4 s (1 h), retry window 10 min (3 days),
lease 5 s (33 s), sweep every 1 s from this process (beat, every 30 s). Each is an option; the broker's visibility
timeout stays at its 3600 s, so a killed worker's work comes back through the leases and the sweeper.
Events are written with `outbox.record`, in their own transactions, at `--rate` per second; a receipt's latency is
from the event's time (`occurred_at`, in its transaction) to the receiver's clock. Last line:
`lost= duplicates_seen= out_of_order= delivery_p50_ms= delivery_p99_ms= events_per_s=` (p50/p99 over the events whose
first attempt succeeded). Needs PostgreSQL at 127.0.0.1:5432 (database portal_h17, recreated) and Redis (db 7, flushed).
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import random
import secrets as pysecrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
from soak_processes import PYTHON, ROOT, free_port, recreate_database  # noqa: E402

ADMIN_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE = "portal_h17"
BROKER = "redis://127.0.0.1:6379/7"
TYPES = ("envelope.sent", "envelope.delivered", "recipient.completed", "envelope.completed", "documents.ready")


def receiver_main(port: int, out: str, stop: multiprocessing.synchronize.Event, hang: float) -> None:
    """The ISV's product, badly behaved: 20% 500, 5% hang past the read timeout, 5% dropped, the rest 200 (recorded)."""
    receipts: list[tuple[str, str, str, int, float]] = []
    lock = threading.Lock()
    chance = random.Random(17)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with lock:
                roll = chance.random()
            if roll < 0.05:
                self.close_connection = True
                self.connection.close()
                return
            if roll < 0.10:
                time.sleep(hang)
                self.close_connection = True
                return
            if roll < 0.30:
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = json.loads(body)["data"]
            with lock:
                receipts.append((self.path, self.headers["webhook-id"], data["envelope_id"], data["sequence"], time.time()))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # the portal closing a kept-alive connection after its timeout is not news

    server = Server(("127.0.0.1", port), Handler)
    server.request_queue_size = 256
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop.wait()
    server.shutdown()
    with lock:
        Path(out).write_text(json.dumps(receipts))


def environment(args: argparse.Namespace) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DOCUSIGN_", "CELERY_", "OUTBOUND_"))},
        "DJANGO_SETTINGS_MODULE": "portal.settings", "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"{ADMIN_DATABASE_URL.rsplit('/', 1)[0]}/{DATABASE}", "CELERY_BROKER_URL": BROKER,
        "REDIS_URL": "", "CACHE_URL": "",
        "PORTAL_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(), "SECRET_KEY": pysecrets.token_urlsafe(50),
        "DOCUSIGN_ENVIRONMENTS": "sandbox", "OUTBOUND_EVENTS_ALLOW_LOOPBACK": "true", "LOG_LEVEL": "WARNING",
        "OUTBOUND_EVENTS_CONNECT_TIMEOUT": str(args.connect_timeout), "OUTBOUND_EVENTS_READ_TIMEOUT": str(args.read_timeout),
        "OUTBOUND_EVENTS_RETRY_BASE": str(args.retry_base), "OUTBOUND_EVENTS_RETRY_CAP": str(args.retry_cap),
        "OUTBOUND_EVENTS_RETRY_WINDOW": str(args.retry_window), "OUTBOUND_EVENTS_LEASE_SECONDS": str(args.lease),
        "OUTBOUND_EVENTS_SWEEP_GRACE": "2",
    }


class Workers:
    def __init__(self, env: dict[str, str], tmp: Path, concurrency: int) -> None:
        self.env, self.tmp, self.concurrency = env, tmp, concurrency
        self.processes: dict[int, subprocess.Popen] = {}
        self.starts = 0

    def start(self, number: int) -> None:
        self.starts += 1
        log = open(self.tmp / f"worker{number}.log", "ab")  # noqa: SIM115 - the child owns it
        self.processes[number] = subprocess.Popen(
            [PYTHON, "-m", "celery", "-A", "portal", "worker", "-l", "WARNING", "-c", str(self.concurrency),
             "-n", f"outbound{number}-{self.starts}@%h", "--without-gossip", "--without-mingle", "-Q", "celery"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def kill(self, number: int) -> None:
        """SIGKILL the worker and its pool at once: what it held is neither finished nor acknowledged."""
        process = self.processes.pop(number)
        os.killpg(process.pid, 9)
        process.wait(15)

    def stop(self) -> None:
        for process in self.processes.values():
            os.killpg(process.pid, 15)
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=80.0, help="events written per second")
    parser.add_argument("--organizations", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--connect-timeout", type=float, default=1.0)
    parser.add_argument("--read-timeout", type=float, default=1.0)
    parser.add_argument("--retry-base", type=float, default=0.5)
    parser.add_argument("--retry-cap", type=float, default=4.0)
    parser.add_argument("--retry-window", type=float, default=600.0)
    parser.add_argument("--lease", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=900.0, help="give up waiting for the deliveries after this")
    args = parser.parse_args()

    env = environment(args)
    os.environ.update(env)
    recreate_database(ADMIN_DATABASE_URL, DATABASE)
    subprocess.run(["redis-cli", "-u", BROKER, "flushdb"], check=True, capture_output=True)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    import django

    django.setup()
    from outbound_events import services
    from tenants.models import ClientOrganization

    tmp = Path(tempfile.mkdtemp(prefix="outbound-bench-"))
    port = free_port()
    stop = multiprocessing.Event()
    receipts_file = str(tmp / "receipts.json")
    receiver = multiprocessing.Process(target=receiver_main, args=(port, receipts_file, stop, args.read_timeout + 0.5))
    receiver.start()
    organizations = [ClientOrganization.objects.create(name=f"Bench {n}", slug=f"bench-{n}")
                     for n in range(args.organizations)]
    for n, organization in enumerate(organizations):
        services.endpoint_create(acting_user=None, organization=organization, url=f"http://127.0.0.1:{port}/e/{n}",
                                 max_in_flight=8)
    workers = Workers(env, tmp, args.concurrency)
    try:
        run(args, workers, organizations, tmp)
    finally:  # never leave workers behind: they would consume the next run's queue with this run's key
        workers.stop()
        stop.set()
        receiver.join(30)
    receipts = json.loads(Path(receipts_file).read_text())
    report(receipts, started_at[0], started_at[1])


started_at = [0.0, 0.0]


def run(args: argparse.Namespace, workers: Workers, organizations: list, tmp: Path) -> None:
    from django.db import transaction

    from outbound_events import outbox, tasks
    from outbound_events.models import Delivery, DeliveryState

    for number in range(1, args.workers + 1):
        workers.start(number)

    sweeping = threading.Event()

    def sweeper() -> None:  # beat's job in production (every 30 s), every second here
        while not sweeping.wait(1.0):
            tasks.sweep()

    threading.Thread(target=sweeper, daemon=True).start()
    # Envelopes go through their five events in rounds, many envelopes interleaved, as a day's traffic would.
    envelopes = [(organizations[i % len(organizations)], SimpleNamespace(envelope_id=str(uuid.uuid4()), status="sent"))
                 for i in range(args.events // len(TYPES))]
    plan = [(organization, envelope, event_type) for start in range(0, len(envelopes), 200)
            for event_type in TYPES for organization, envelope in envelopes[start:start + 200]]
    kills_at = {len(plan) // 3: 1, 2 * len(plan) // 3: 2}
    started = time.time()
    for index, (organization, envelope, event_type) in enumerate(plan):
        if index in kills_at:
            number = kills_at[index]
            workers.kill(number)
            print(f"SIGKILL worker {number} after {index} events", flush=True)
            workers.start(number)  # as a supervisor would
        with transaction.atomic():
            outbox.record(event_type, organization=organization, envelope=envelope)
        delay = started + (index + 1) / args.rate - time.time()
        if delay > 0:
            time.sleep(delay)
    written = time.time()
    print(f"wrote {len(plan)} events in {written - started:.1f} s", flush=True)
    deadline = written + args.timeout
    while time.time() < deadline:
        unfinished = Delivery.objects.exclude(state__in=[DeliveryState.DELIVERED, DeliveryState.FAILED]).count()
        if not unfinished:
            break
        time.sleep(1)
    started_at[:] = [started, time.time()]
    sweeping.set()


def report(receipts: list, started: float, finished: float) -> None:
    from django.db.models import Count

    from outbound_events.models import Delivery, DeliveryState, OutboundEvent

    seen: set[str] = set()
    duplicates = out_of_order = 0
    highest: dict[tuple[str, str], int] = {}
    arrival: dict[str, float] = {}
    for path, webhook_id, envelope_id, sequence, at in sorted(receipts, key=lambda r: r[4]):
        if webhook_id in seen:
            duplicates += 1
            continue
        seen.add(webhook_id)
        arrival[webhook_id] = at
        stream = (path, envelope_id)
        if sequence < highest.get(stream, 0):
            out_of_order += 1
        highest[stream] = max(highest.get(stream, 0), sequence)
    events = {f"msg_{e.id.hex}": e.occurred_at.timestamp() for e in OutboundEvent.objects.only("id", "occurred_at")}
    lost = sum(1 for webhook_id in events if webhook_id not in seen)
    first_try = Delivery.objects.filter(state=DeliveryState.DELIVERED).annotate(n=Count("attempt_log")).filter(
        n=1, attempts=1).values_list("event_id", flat=True)
    latencies = sorted((arrival[f"msg_{e.hex}"] - events[f"msg_{e.hex}"]) * 1000 for e in first_try
                       if f"msg_{e.hex}" in arrival)
    states = dict(Delivery.objects.values_list("state").annotate(n=Count("id")))
    print(f"deliveries by state: {states}; first-try deliveries: {len(latencies)}; receipts: {len(receipts)}")
    p50 = statistics.median(latencies) if latencies else 0.0
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else 0.0
    print(f"lost={lost} duplicates_seen={duplicates} out_of_order={out_of_order} delivery_p50_ms={p50:.0f} "
          f"delivery_p99_ms={p99:.0f} events_per_s={len(events) / (finished - started):.1f}")


if __name__ == "__main__":
    main()
