"""Benchmark: a burst of signed Connect deliveries against `make run`'s own configuration (scripts/run.py's processes).

Starts scripts/run.py in a throwaway directory on free ports (SQLite files, the embedded broker, runserver, a Celery
worker of 2, beat, the sandbox), makes Initech's consent real (JWT grant), sends N distinct signed deliveries from T
threads, and waits until every event is applied. Prints how long acknowledgement and application took, and what must
stay zero: dead letters, restarts, "database is locked" lines. The test with 500 x 8 is tests/embedded/.

    .venv/bin/python bench/make_run_burst.py [--deliveries 2000] [--threads 16]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# This process only signs the deliveries (the HMAC helper imports the portal's models); the run has its own settings.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
import django  # noqa: E402

django.setup()

from tests.embedded.make_run import MakeRun  # noqa: E402
from tests.embedded.test_make_run_burst import LIFE, LOCKED, deliveries, send  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-make-run-") as tmp:
        run = MakeRun(Path(tmp) / "var").start()
        try:
            run.manage("check_consent", "--org", "initech")
            (account_id,) = run.query("SELECT account_id FROM tenants_clientorganization WHERE slug = 'initech'")[0]
            secret = run.sandbox_seed()["hmac_keys"][0]["secret"]
            before = run.processes()
            log_start = len(run.log())
            messages, envelope_ids = deliveries(args.deliveries, secret, account_id, datetime.now(UTC))
            started = time.perf_counter()
            statuses = send(f"{run.portal_url}/docusign/connect/", messages, args.threads)
            acked_s = time.perf_counter() - started
            deadline = time.monotonic() + args.timeout
            waiting = len(messages)
            while waiting and time.monotonic() < deadline:
                time.sleep(0.5)
                (waiting,) = run.query("SELECT COUNT(*) FROM docusign_integration_connectevent WHERE state = 'received'")[0]
            applied_s = time.perf_counter() - started
            (applied,) = run.query("SELECT COUNT(*) FROM docusign_integration_connectevent WHERE state = 'applied'")[0]
            (final,) = run.query("SELECT COUNT(*) FROM docusign_integration_envelope WHERE status = 'declined'")[0]
            (dead,) = run.query("SELECT COUNT(*) FROM portal_failedtask")[0]
            output = run.log()[log_start:]
            restarts = output.count(" restarted (pid ") + sum(1 for role, pid in run.processes().items()
                                                              if before.get(role) != pid)
        finally:
            code = run.stop()
    refused = sum(1 for status in statuses if status != 200)
    print(f"{len(messages)} deliveries ({len(envelope_ids)} envelopes x {len(LIFE)} events) from {args.threads} threads")
    print(f"acknowledged in {acked_s:.1f} s ({len(messages) / acked_s:.0f}/s), all applied after {applied_s:.1f} s")
    print(f"make_run_burst n={len(messages)} threads={args.threads} ack_s={acked_s:.1f} applied_s={applied_s:.1f} "
          f"applied={applied} envelopes_final={final}/{len(envelope_ids)} refused={refused} dead_letters={dead} "
          f"restarts={restarts} locked_lines={output.count(LOCKED)} stop_exit={code}")
    return 0 if (applied, refused, dead, restarts, output.count(LOCKED)) == (len(messages), 0, 0, 0, 0) else 1


if __name__ == "__main__":
    sys.exit(main())
