"""Benchmark: the staff dashboard, a health page and the organizations changelist at 10,000 client organizations.

Fills a throwaway database with `--orgs` client organizations in mixed states (consent granted, required, unknown or
revoked; connections, some needing a reconnect; Connect setup in sync, drifted, missing or failed; envelopes; rate
limits; audit rows) and `--events` Connect messages spread over the last `--days` days, all with bulk_create. Then, through
Django's test Client signed in as ISV staff, times each page (median of `--runs` runs after a warm-up) and counts its
queries. `--explain` prints PostgreSQL's EXPLAIN ANALYZE of each page's slowest query.

The database: DATABASE_URL when set (it is filled, so give a throwaway one); otherwise a new `portal_bench_dash`
database on the local PostgreSQL (postgres@127.0.0.1:5432), created here and dropped at the end; otherwise a
temporary SQLite file.

    .venv/bin/python bench/dashboard.py [--orgs 10000] [--events 50000] [--days 3] [--runs 5] [--explain]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL_SERVER = "postgres://postgres@127.0.0.1:5432"
BENCH_DATABASE = "portal_bench_dash"
BATCH = 2000


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A database URL to fill: DATABASE_URL as given, else a fresh PostgreSQL database (dropped after), else SQLite."""
    if given := os.environ.get("DATABASE_URL"):
        yield given
        return
    try:
        import psycopg

        admin = psycopg.connect(f"{LOCAL_SERVER}/postgres", autocommit=True, connect_timeout=3)
    except Exception:  # no local PostgreSQL: the benchmark still runs, on SQLite
        with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        return
    with admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
        admin.execute(f"CREATE DATABASE {BENCH_DATABASE}")
        try:
            yield f"{LOCAL_SERVER}/{BENCH_DATABASE}"
        finally:
            from django.db import connections

            connections.close_all()
            admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


def setup_django(database_url: str) -> None:
    """Django with the test settings (no DEBUG query log) on `database_url`, migrated."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    os.environ["DATABASE_URL"] = database_url
    import django
    from django.core.management import call_command

    django.setup()
    from django.conf import settings

    # What pytest-django does for the test Client; DEBUG off as in production (and no query log growing per request).
    settings.ALLOWED_HOSTS, settings.DEBUG = [*settings.ALLOWED_HOSTS, "testserver"], False
    call_command("migrate", verbosity=0)


def _pick(rng: random.Random, weighted: dict[str, float]) -> str:
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def fill(orgs: int, events: int, days: float, seed: int = 1) -> None:
    """`orgs` client organizations in realistic mixed states and `events` Connect messages over the last `days` days."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from docusign_integration.connect.models import ConnectEventState
    from docusign_integration.envelopes.models.envelopes import CreatedVia, EnvelopeStatus
    from docusign_integration.models import (
        AccountRateLimit,
        AccountSetupState,
        AccountSyncState,
        ConnectEvent,
        DocuSignCredential,
        Envelope,
    )
    from docusign_integration.oauth.models.credentials import CredentialStatus
    from docusign_integration.setup.models import SetupStatus
    from tenants.models import AuditEvent, ClientOrganization, ConsentStatus, OnboardingStatus, SystemUser

    rng, now = random.Random(seed), timezone.now()
    consent_mix = {ConsentStatus.GRANTED: 70, ConsentStatus.REQUIRED: 15, ConsentStatus.UNKNOWN: 12,
                   ConsentStatus.REVOKED: 3}
    setup_mix = {SetupStatus.IN_SYNC: 88, SetupStatus.DRIFTED: 6, SetupStatus.UNKNOWN: 3, SetupStatus.MISSING: 2,
                 SetupStatus.ERROR: 1}
    organizations, consent = [], {}
    for n in range(orgs):
        status = _pick(rng, consent_mix)
        granted = status == ConsentStatus.GRANTED
        organizations.append(ClientOrganization(
            name=f"Client {n:05}", slug=f"client-{n:05}", environment="sandbox",
            onboarding_status=(OnboardingStatus.READY if granted and rng.random() < 0.8 else OnboardingStatus.CONSENTED)
            if granted else rng.choice([OnboardingStatus.PROVISIONED, OnboardingStatus.INVITED]),
            account_id=str(uuid.uuid4()) if granted or rng.random() < 0.3 else None,
            account_name=f"Client {n:05} Inc." if granted else "",
            base_uri="https://demo.docusign.net" if granted and rng.random() < 0.995 else ""))
        consent[n] = status
    ClientOrganization.objects.bulk_create(organizations, batch_size=BATCH)
    organizations = list(ClientOrganization.objects.order_by("pk"))
    granted = [o for n, o in enumerate(organizations) if consent[n] == ConsentStatus.GRANTED]

    SystemUser.objects.bulk_create([
        SystemUser(organization=o, user_id=str(uuid.uuid4()), email=f"system@{o.slug}.example", consent_status=consent[n],
                   last_error="JWT grant refused: consent_required" if rng.random() < 0.01 else "",
                   verified_at=now if consent[n] == ConsentStatus.GRANTED else None, checked_at=now)
        for n, o in enumerate(organizations) if rng.random() < 0.99], batch_size=BATCH)
    AccountSetupState.objects.bulk_create([
        AccountSetupState(organization=o, status=(status := _pick(rng, setup_mix)), checked_at=now,
                          drift=["events", "includeHMAC"] if status == SetupStatus.DRIFTED else [],
                          last_error="Connect configuration refused" if status == SetupStatus.ERROR else "",
                          connect_id=str(rng.randrange(10**6, 10**7)))
        for o in granted], batch_size=BATCH)
    AccountSyncState.objects.bulk_create([
        AccountSyncState(organization=o, watermark=now, last_sweep_at=now, last_sweep_calls=2,
                         last_error="DocuSign answered 503" if rng.random() < 0.02 else "") for o in granted],
        batch_size=BATCH)
    AccountRateLimit.objects.bulk_create([
        AccountRateLimit(environment=o.environment, account_id=o.account_id, limit=1000,
                         remaining=rng.choice([5, 50]) if rng.random() < 0.02 else rng.randrange(200, 1000),
                         reset_at=now + timedelta(minutes=30),
                         blocked_until=now + timedelta(minutes=10) if rng.random() < 0.005 else None)
        for o in granted], batch_size=BATCH)

    admins = get_user_model().objects.bulk_create([get_user_model()(username=f"client-admin-{n}") for n in range(50)])
    credentials = []
    for o in granted:
        if rng.random() < 0.6:
            credential = DocuSignCredential(
                organization=o, user=rng.choice(admins), environment=o.environment, docusign_user_id=str(uuid.uuid4()),
                expires_at=now + timedelta(hours=1), refresh_expires_at=now + timedelta(days=20), scopes="signature",
                status=CredentialStatus.NEEDS_RECONNECT if rng.random() < 0.04 else CredentialStatus.OK)
            credential.set_tokens(access_token="access", refresh_token="refresh", expires_at=credential.expires_at)
            credentials.append(credential)
    DocuSignCredential.objects.bulk_create(credentials, batch_size=BATCH)

    envelopes = [Envelope(organization=o, envelope_id=str(uuid.uuid4()), environment=o.environment, subject="Agreement",
                          status=rng.choice(list(EnvelopeStatus)), created_via=CreatedVia.CONNECT, last_event_at=now)
                 for o in granted for _ in range(rng.randrange(0, 8))]
    Envelope.objects.bulk_create(envelopes, batch_size=BATCH)

    # Deliveries: busy accounts get most of them; nearly all applied, a few quarantined or (for a stuck worker) waiting.
    weights = [rng.paretovariate(1.2) for _ in granted]
    state_mix = {ConnectEventState.APPLIED: 97, ConnectEventState.IGNORED: 1.5, ConnectEventState.QUARANTINED: 1,
                 ConnectEventState.RECEIVED: 0.5}
    rows = []
    for organization in rng.choices(granted, weights=weights, k=events):
        received = now - timedelta(seconds=rng.randrange(0, int(days * 24 * 3600)))
        rows.append(ConnectEvent(
            environment=organization.environment, account_id=organization.account_id, envelope_id=str(uuid.uuid4()),
            event="envelope-sent", generated_at=received, organization=organization, body=b'{"event":"envelope-sent"}',
            state=(state := _pick(rng, state_mix)), received_at=received,
            processed_at=None if state == ConnectEventState.RECEIVED else received))
    ConnectEvent.objects.bulk_create(rows, batch_size=BATCH)

    AuditEvent.objects.bulk_create([
        AuditEvent(action=action, organization=o, target=o.slug, after={"name": o.name})
        for o in organizations for action in ("organization.provision", "consent.check")], batch_size=BATCH)


def _timed(client, url: str, runs: int) -> tuple[float, int]:
    """(median milliseconds over `runs` after one warm-up, queries of one request)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert client.get(url).status_code == 200, url  # warm-up: templates, URL resolvers, the database's caches
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return statistics.median(timings), len(captured)


def _explain_slowest(client, url: str) -> None:
    """EXPLAIN ANALYZE of the page's slowest query (PostgreSQL only)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    slowest = max(captured.captured_queries, key=lambda q: float(q["time"]))
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    print(f"--- {url}: slowest query {float(slowest['time']) * 1000:.0f} ms\n{slowest['sql'][:600]}...\n{plan}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=50_000, help="Connect messages, spread over --days")
    parser.add_argument("--days", type=float, default=3, help="how far back the Connect messages go")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of each page's slowest query")
    options = parser.parse_args()

    with throwaway_database() as database_url:
        setup_django(database_url)
        from django.db import connection
        from django.test import Client

        from tenants.models import ClientOrganization
        from tests import factories

        started = time.perf_counter()
        fill(options.orgs, options.events, options.days)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # as autovacuum would have by now in production
        print(f"filled {options.orgs} organizations and {options.events} Connect messages on {connection.vendor} "
              f"in {time.perf_counter() - started:.0f} s")

        client = Client()
        client.force_login(factories.isv_staff())
        watched = ClientOrganization.objects.filter(connect_events__isnull=False).order_by("pk").first()
        changelist = "/admin/tenants/clientorganization/"
        pages = {
            "dashboard": "/admin/dashboard/",
            "health": f"{changelist}{watched.pk}/health/",
            "changelist": changelist,
            "changelist_filtered": f"{changelist}?system_user__consent_status__exact=granted&onboarding_status__exact=ready",
            "changelist_search": f"{changelist}?q=Client+0424",
        }
        results = {name: _timed(client, url, options.runs) for name, url in pages.items()}
        if options.explain and connection.vendor == "postgresql":
            for url in pages.values():
                _explain_slowest(client, url)

    print(f"{'page':<22}{'queries':>8}{'median ms':>11}")
    for name, (ms, queries) in results.items():
        print(f"{name:<22}{queries:>8}{ms:>11.1f}")
    figures = " ".join(f"{name}_ms={ms:.0f}" for name, (ms, _) in results.items())
    counts = " ".join(f"queries_{name}={queries}" for name, (_, queries) in results.items())
    print(f"{figures} {counts} orgs={options.orgs} events={options.events} days={options.days:g} db={connection.vendor}")


if __name__ == "__main__":
    main()
