"""What the soak measures, read from both databases at the end, and docs/reliability.md written from it.

- lost: messages the portal acknowledged (200) that are not stored as applied (or ignored) events, messages the relay
  could never hand over, and sandbox envelopes the portal does not know after the fallback sync;
- double_applied: an (envelope, status) change audited more than once, plus changes that moved a status backwards;
- mismatched: envelopes whose status in the portal differs from DocuSign's (the sandbox's) after the fallback sync.
"""

from __future__ import annotations

import os
import platform
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.soak_relay import Ack
from docusign_integration.connect.models import ConnectEventState
from docusign_integration.envelopes.status import STATUS_RANK, parse_docusign_datetime
from docusign_integration.models import ConnectEvent, Envelope
from docusign_sandbox.models import ConnectDelivery
from docusign_sandbox.models import Envelope as SandboxEnvelope
from tenants.models import AuditEvent, ClientOrganization


def percentile_ms(seconds: Iterable[float], percent: int) -> float:
    values = sorted(seconds)
    if len(values) < 2:
        return values[0] * 1000 if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1] * 1000


def status_mismatches(organizations: list[ClientOrganization]) -> tuple[int, int]:
    """(envelopes whose portal status differs from the sandbox's, sandbox envelopes the portal does not know)."""
    accounts = {o.account_id: o.pk for o in organizations}
    docusign = dict(SandboxEnvelope.objects.filter(account__account_id__in=accounts)
                    .values_list("envelope_id", "status"))
    portal = {envelope_id.lower(): status for envelope_id, status
              in Envelope.objects.filter(organization__in=organizations).values_list("envelope_id", "status")}
    unknown = sum(1 for envelope_id in docusign if envelope_id.lower() not in portal)
    differ = sum(1 for envelope_id, status in docusign.items()
                 if envelope_id.lower() in portal and portal[envelope_id.lower()] != status)
    return differ, unknown


def acknowledged_not_applied(acknowledged: set[tuple[str, str, str, str, str]]) -> int:
    """Messages answered 200 whose stored event is missing or never applied (still waiting, or quarantined)."""
    done = {(a, e, ev, g, r) for a, e, ev, g, r in ConnectEvent.objects.filter(
        state__in=(ConnectEventState.APPLIED, ConnectEventState.IGNORED)).values_list(
        "account_id", "envelope_id", "event", "generated_at", "recipient_id").iterator()}
    return sum(1 for a, e, ev, g, r in acknowledged if (a, e, ev, parse_docusign_datetime(g), r) not in done)


def double_applied(organizations: list[ClientOrganization]) -> tuple[int, int]:
    """(status changes audited more than once for the same envelope and status, changes that went backwards)."""
    rows = AuditEvent.objects.filter(organization__in=organizations, action="envelope.status_changed").values_list(
        "target", "before", "after")
    seen: Counter[tuple[str, str]] = Counter()
    backwards = 0
    for target, before, after in rows.iterator():
        seen[(target, after["status"])] += 1
        if STATUS_RANK[after["status"]] <= STATUS_RANK[before["status"]]:
            backwards += 1
    return sum(count - 1 for count in seen.values() if count > 1), backwards


@dataclass
class Figures:
    """Everything the report prints; `line()` is the final name=value line."""

    envelopes: int
    published: int
    dropped: int
    sandbox_failed: int
    stored_events: int
    events_by_state: dict[str, int]
    acks: list[Ack]
    outage_window: tuple[float, float] | None
    repaired_by_sync: int
    lost: int
    double_applied: int
    regressed: int
    mismatched: int
    server_ack_ms: list[float]

    @property
    def ack_p50_ms(self) -> float:
        return percentile_ms((a.seconds for a in self.acks if a.status == 200), 50)

    @property
    def ack_p99_ms(self) -> float:
        return percentile_ms((a.seconds for a in self.acks if a.status == 200), 99)

    def acks_by_kind(self) -> Counter[str]:
        return Counter(a.kind for a in self.acks)

    def refused(self) -> int:
        return sum(1 for a in self.acks if a.status != 200)

    def outage_acks(self) -> list[Ack]:
        if self.outage_window is None:
            return []
        start, end = self.outage_window
        return [a for a in self.acks if start <= a.at <= end]

    def line(self) -> str:
        return (f"lost={self.lost} double_applied={self.double_applied + self.regressed} mismatched={self.mismatched} "
                f"ack_p50_ms={self.ack_p50_ms:.1f} ack_p99_ms={self.ack_p99_ms:.1f}")

    def table(self) -> list[tuple[str, str]]:
        kinds = self.acks_by_kind()
        outage = self.outage_acks()
        outage_ok = sum(1 for a in outage if a.status == 200)
        rows = [
            ("Envelopes (sandbox)", f"{self.envelopes:,}"),
            ("Connect messages published by the sandbox", f"{self.published:,}"),
            ("  dropped by the sandbox (never sent)", f"{self.dropped:,}"),
            ("  still failed in the sandbox at the end", f"{self.sandbox_failed:,}"),
            ("POSTs to the listener", f"{len(self.acks):,}"),
            ("  as the sandbox sent them", f"{kinds['sandbox']:,}"),
            ("  held back, arriving after newer ones (out of order)", f"{kinds['late']:,}"),
            ("  duplicates", f"{kinds['duplicate']:,}"),
            ("  answered other than 200", f"{self.refused():,}"),
            ("  during the broker outage (answered 200)", f"{len(outage):,} ({outage_ok:,})"),
            ("Events stored", f"{self.stored_events:,} ("
             + ", ".join(f"{state} {count:,}" for state, count in sorted(self.events_by_state.items())) + ")"),
            ("Envelopes repaired by the fallback sync", f"{self.repaired_by_sync:,}"),
            ("Ack latency p50 / p99 (client side, all 200s)", f"{self.ack_p50_ms:.1f} ms / {self.ack_p99_ms:.1f} ms"),
            ("Ack latency p50 / p99 (gunicorn, listener POSTs)",
             f"{percentile_ms((ms / 1000 for ms in self.server_ack_ms), 50):.1f} ms / "
             f"{percentile_ms((ms / 1000 for ms in self.server_ack_ms), 99):.1f} ms"),
            ("**Lost** (target 0)", f"**{self.lost:,}**"),
            ("**Double-applied** (target 0)", f"**{self.double_applied + self.regressed:,}**"
             + (f" ({self.regressed:,} went backwards)" if self.regressed else "")),
            ("**Final-state mismatches** (target 0)", f"**{self.mismatched:,}**"),
        ]
        return rows


def sandbox_deliveries(organizations: list[ClientOrganization]) -> tuple[int, int, int]:
    """(published, dropped, still failed) Connect messages of the organizations' accounts."""
    rows = ConnectDelivery.objects.filter(account__account_id__in=[o.account_id for o in organizations])
    counts = Counter(rows.values_list("status", flat=True))
    return sum(counts.values()), counts[ConnectDelivery.DROPPED], counts[ConnectDelivery.FAILED]


def server_ack_ms(access_log: Path) -> list[float]:
    """gunicorn's %(D)s (microseconds) of every POST to the listener, in milliseconds."""
    values = []
    for line in access_log.read_text().splitlines():
        parts = line.split(" ")
        if len(parts) >= 4 and parts[0] == "POST" and parts[1] == "/docusign/connect/":
            values.append(int(parts[3]) / 1000)
    return values


def machine() -> str:
    memory_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal:")), 0)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    return f"{os.cpu_count()} cores ({cpu}), {memory_kb / 1_048_576:.1f} GiB memory, {platform.system()} {platform.release()}"


def write_markdown(path: Path, figures: Figures, parameters: list[tuple[str, str]], timeline: list[tuple[str, float]],
                   command: str) -> None:
    lines = [
        "# Reliability: Connect deliveries under faults",
        "",
        f"<!-- Generated by bench/soak.py; do not edit by hand. Re-run: {command} -->",
        "",
        f"Generated by `bench/soak.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on {machine()}.",
        "",
        "The whole stack ran as separate processes: PostgreSQL, a dedicated redis-server (the Celery broker), the "
        "DocuSign sandbox (`manage.py runsandbox`), the portal under gunicorn, two Celery workers (acks_late) and "
        "Celery beat (the Connect sweeper every minute). Envelopes were sent through the eSignature REST API and moved "
        "along their lifecycle by their recipients; the sandbox published each change to Connect and POSTed it through "
        "a relay that held some back (so they arrived after newer ones) and sent some twice. At the end the fallback "
        "sync (`manage.py sync_envelopes --all`) ran once and every envelope's status in the portal was compared with "
        "the sandbox's.",
        "",
        "## Parameters",
        "",
        "| Parameter | Value |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in parameters),
        "",
        "## Figures",
        "",
        "| Figure | Value |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in figures.table()),
        "",
        "## Timeline",
        "",
        "| Phase | Seconds |",
        "|---|---|",
        *(f"| {name} | {seconds:.0f} |" for name, seconds in timeline),
        "",
        "## Definitions",
        "",
        "- **Lost**: a message the listener acknowledged (200) that is not stored as an applied or ignored event at the "
        "end, a held or duplicate message the relay could never hand over, or a sandbox envelope the portal does not "
        "know after the fallback sync.",
        "- **Double-applied**: the same status change of the same envelope audited more than once "
        "(`envelope.status_changed`), or a change that moved a status backwards.",
        "- **Final-state mismatch**: an envelope whose status in the portal differs from DocuSign's after the sync.",
        "- **Ack latency**: from the first byte of a POST to the listener's answer, as its sender (the relay) saw it, over "
        "every POST answered 200: the sandbox's, the late ones and the duplicates. gunicorn's own figure leaves out "
        "time spent waiting for a free worker.",
        "",
        f"Final line: `{figures.line()}`",
        "",
    ]
    path.write_text("\n".join(lines))
