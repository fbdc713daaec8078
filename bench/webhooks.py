"""Benchmark: Connect deliveries acknowledged per second by the listener, against a bare 200 view on the same server.

Starts gunicorn (2 gthread workers of 8 threads, production's DEBUG=False) serving portal.wsgi on a free loopback
port with a throwaway SQLite file (or DATABASE_URL when set) and a filesystem broker (or CELERY_BROKER_URL when set)
that no worker consumes, so only acknowledgement is measured: HMAC verification, parsing, storing the event and
queueing its processing. The bare view reads the body and answers 200. Each of the N deliveries is a distinct,
correctly signed JSON SIM message (a new event row), sent from a thread pool. Production's stack (give the broker a
Redis database of its own: the messages queued stay there, unconsumed):

    psql -h 127.0.0.1 -U postgres -c 'create database portal_bench'
    CELERY_BROKER_URL=redis://127.0.0.1:6379/9 DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \
        .venv/bin/python bench/webhooks.py [--deliveries 1000] [--concurrency 16] [--rounds 2]

The cost of metrics (docs/operations.md section 10): each round measures the ratio with metrics off (no PORTAL_METRICS_TOKEN)
and on (a token, django-prometheus's middleware and database wrappers, and PROMETHEUS_MULTIPROC_DIR shared by the
two workers, as in production); the last line prints the median ratio of each and the change (target: within 5%).
With metrics on, /metrics is scraped at the end and must have counted every delivery across both workers.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "connect" / "envelope-sent.json"
ACCOUNT_ID = "b1f0c2a4-6d3e-4a8b-9c1d-000000000101"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


METRICS_TOKEN = "bench-metrics-token"
SLICE = 100  # deliveries per alternating slice of bare view and listener


def _with_metrics(env: dict[str, str], tmp: Path, on: bool) -> dict[str, str]:
    env = {key: value for key, value in env.items() if key not in ("PORTAL_METRICS_TOKEN", "PROMETHEUS_MULTIPROC_DIR")}
    if on:
        directory = tmp / f"metrics-{uuid.uuid4().hex[:8]}"  # a fresh directory for each server, as at a deployment
        directory.mkdir()
        env.update(PORTAL_METRICS_TOKEN=METRICS_TOKEN, PROMETHEUS_MULTIPROC_DIR=str(directory))
    return env


def _counted(base: str) -> float:
    """portal_connect_deliveries_received_total summed over the workers, from /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    text = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10).text
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "portal_connect_deliveries_received_total")


def _environment(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    env.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-0123456789-0123456789")
    env.setdefault("PORTAL_ENCRYPTION_KEYS", base64.urlsafe_b64encode(os.urandom(32)).decode())
    (tmp / "broker").mkdir()
    # Production's broker when one is named (CELERY_BROKER_URL=redis://...), else a filesystem one no worker reads.
    env.setdefault("CELERY_BROKER_URL", "filesystem://")
    env.update({"DJANGO_SETTINGS_MODULE": "bench.webhooks_settings", "BENCH_BROKER_DIR": str(tmp / "broker"),
                "CELERY_TASK_ALWAYS_EAGER": "False", "PYTHONPATH": str(ROOT),
                # Production's settings: DEBUG=True records every SQL query and cost the listener a third of its rate.
                # Plain HTTP on loopback stands in for the TLS a load balancer ends, so no redirect to https.
                "DEBUG": "False", "SECURE_SSL_REDIRECT": "False"})
    return env


def _prepare(env: dict[str, str], secret: str) -> None:
    """Migrate, and create the client organization and the partner key the deliveries are signed with."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from docusign_integration.connect.hmac import connect_hmac_key_add
    from tenants.models import ClientOrganization

    ClientOrganization.objects.get_or_create(environment="sandbox", account_id=ACCOUNT_ID,
                                             defaults={"name": "Bench Corp", "slug": f"bench-{uuid.uuid4().hex[:8]}"})
    from docusign_integration.models import ConnectHMACKey

    ConnectHMACKey.objects.filter(label="Bench partner key").delete()  # an earlier run's, on a reused DATABASE_URL
    connect_hmac_key_add(acting_user=None, environment="sandbox", label="Bench partner key", secret=secret)


def _deliveries(count: int, secret: str) -> list[tuple[bytes, dict[str, str]]]:
    from docusign_integration.connect.hmac import signature

    template = json.loads(FIXTURE.read_bytes())
    start = datetime.now(UTC)
    messages = []
    for n in range(count):
        envelope_id = str(uuid.uuid4())
        message = {**template, "generatedDateTime": (start + timedelta(milliseconds=n)).strftime("%Y-%m-%dT%H:%M:%S.%f0Z"),
                   "data": {**template["data"], "envelopeId": envelope_id,
                            "envelopeSummary": {**template["data"]["envelopeSummary"], "envelopeId": envelope_id}}}
        body = json.dumps(message, separators=(",", ":")).encode()
        messages.append((body, {"Content-Type": "application/json", "X-DocuSign-AccountId": ACCOUNT_ID,
                                "X-Authorization-Digest": "HMACSHA256", "X-DocuSign-Signature-1": signature(secret, body)}))
    return messages


def _start_gunicorn(env: dict[str, str], port: int) -> subprocess.Popen:
    command = [str(Path(sys.executable).parent / "gunicorn"), "portal.wsgi:application", "--bind", f"127.0.0.1:{port}",
               "--workers", "2", "--worker-class", "gthread", "--threads", "8", "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return server
        except requests.RequestException:  # not listening yet, or a worker still importing Django
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 30 s")


def _workers_cpu(master: int) -> float:
    """CPU seconds (user + system) spent so far by the gunicorn workers under `master`, from /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # a process that ended while the directory was read
            continue
        if int(fields[1]) == master:  # fields after the name: state, ppid, ... utime (12), stime (13)
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def _run(url: str, deliveries: list[tuple[bytes, dict[str, str]]], concurrency: int) -> tuple[float, list[float]]:
    """Deliveries per second and each one's latency (seconds); every answer must be 200."""
    sessions: dict[int, requests.Session] = {}

    def post(delivery: tuple[bytes, dict[str, str]]) -> float:
        import threading

        session = sessions.setdefault(threading.get_ident(), requests.Session())
        started = time.perf_counter()
        response = session.post(url, data=delivery[0], headers=delivery[1], timeout=30)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(post, deliveries))
    return len(deliveries) / (time.perf_counter() - started), latencies


def _measure(env: dict[str, str], deliveries: list[tuple[bytes, dict[str, str]]], concurrency: int,
             metrics: bool) -> tuple[float, float, list[float], float]:
    """(bare rate, listener rate, listener latencies, the workers' CPU ms per listener delivery) on a fresh gunicorn."""
    port = _free_port()
    server = _start_gunicorn(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        _run(f"{base}/bench/bare/", deliveries[:50], concurrency)  # warm up both workers
        # Alternate slices of both, so a shared machine's load changes weigh on both rates alike.
        bare_seconds = listener_seconds = listener_cpu = 0.0
        latencies: list[float] = []
        for start in range(0, len(deliveries), SLICE):
            part = deliveries[start:start + SLICE]
            rate, _ = _run(f"{base}/bench/bare/", part, concurrency)
            bare_seconds += len(part) / rate
            cpu_before = _workers_cpu(server.pid)
            rate, part_latencies = _run(f"{base}/docusign/connect/", part, concurrency)
            listener_cpu += _workers_cpu(server.pid) - cpu_before
            listener_seconds += len(part) / rate
            latencies += part_latencies
        bare_rps, listener_rps = len(deliveries) / bare_seconds, len(deliveries) / listener_seconds
        if metrics and _counted(base) != len(deliveries):
            raise SystemExit(f"/metrics counted {_counted(base)} deliveries of {len(deliveries)}")
    finally:
        _stop(server)
    return bare_rps, listener_rps, latencies, listener_cpu / len(deliveries) * 1000


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(60)  # gunicorn's graceful stop waits for the clients' keep-alive connections
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of (metrics off, metrics on)")
    args = parser.parse_args()
    secret = base64.b64encode(os.urandom(32)).decode()
    ratios: dict[bool, list[float]] = {False: [], True: []}
    cpu_ms: dict[bool, list[float]] = {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp:
        env = _environment(Path(tmp))
        _prepare(env, secret)
        from docusign_integration.models import ConnectEvent

        before = ConnectEvent.objects.count()
        runs = 0
        for _ in range(args.rounds):
            for metrics in (False, True):
                deliveries = _deliveries(args.deliveries, secret)  # new envelopes: each run stores new events
                bare_rps, listener_rps, latencies, cpu = _measure(_with_metrics(env, Path(tmp), metrics), deliveries,
                                                                  args.concurrency, metrics)
                cpu_ms[metrics].append(cpu)
                runs += 1
                cuts = statistics.quantiles(latencies, n=100)
                ratios[metrics].append(listener_rps / bare_rps)
                print(f"metrics {'on ' if metrics else 'off'}: bare {bare_rps:7.1f}/s, listener {listener_rps:7.1f}/s "
                      f"(p50 {cuts[49] * 1000:.1f} ms, p99 {cuts[98] * 1000:.1f} ms), ratio {ratios[metrics][-1]:.3f}, "
                      f"workers' CPU {cpu:.2f} ms per delivery")
        stored = ConnectEvent.objects.count() - before
    if stored != args.deliveries * runs:
        raise SystemExit(f"{stored} events stored for {args.deliveries * runs} deliveries")
    off, on = statistics.median(ratios[False]), statistics.median(ratios[True])
    change = (on - off) / off * 100
    cpu_off, cpu_on = statistics.median(cpu_ms[False]), statistics.median(cpu_ms[True])
    print(f"ratio={on:.3f} metrics_on_ratio={on:.3f} metrics_off_ratio={off:.3f} change={change:+.1f}% "
          f"(target: within 5%) listener_cpu_ms_off={cpu_off:.2f} listener_cpu_ms_on={cpu_on:.2f} "
          f"cpu_change={(cpu_on - cpu_off) / cpu_off * 100:+.1f}% n={args.deliveries} rounds={args.rounds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
