"""The staff dashboard's figures: organizations by onboarding state and health, who needs attention now, and
Connect deliveries per hour over the last 24 hours.

Each figure is one aggregate query whatever the number of organizations (product brief, "Scale"); the attention
list is a page of `health.needs_attention`, so it costs a count and a page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar, overload

from django.core.paginator import Page, Paginator
from django.db.models import Count, Model, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from docusign_integration.connect.models import ConnectEventState
from docusign_integration.models import ConnectEvent
from tenants.active import active_only
from tenants.health import Level, OrganizationHealth, needs_attention, organization_health, with_health
from tenants.models import ClientOrganization, OnboardingStatus

S = TypeVar("S", bound=Model)
R = TypeVar("R")

ATTENTION_PAGE_SIZE = 25
CHART_HOURS = 24
# The chart's drawing box in SVG user units; the stylesheet scales it to the page width.
CHART_WIDTH, CHART_HEIGHT, CHART_BOTTOM = 720, 180, 20
BAR_GAP = 4


@dataclass(frozen=True)
class Tally:
    label: str
    count: int
    slug: str = ""  # a CSS class suffix for the badge, when the tally is a health level


@dataclass(frozen=True)
class AttentionRow:
    organization: ClientOrganization
    health: OrganizationHealth


@dataclass(frozen=True)
class HourBar:
    """One hour of Connect deliveries, with its rectangle already computed (the template only places it)."""

    start: datetime
    count: int
    quarantined: int
    x: int
    width: int
    y: int
    height: int
    quarantined_y: int
    quarantined_height: int
    label: str  # the hour shown under every sixth bar, else ""


@dataclass(frozen=True)
class DeliveryChart:
    bars: list[HourBar]
    total: int
    peak: int
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT + CHART_BOTTOM
    baseline: int = CHART_HEIGHT


class MappedRows(Sequence[R]):
    """`rows` read through `convert` one slice at a time: a Paginator counts and slices it as it would `rows`, and its
    pages hold what `convert` makes of each row."""

    def __init__(self, rows: QuerySet[S], convert: Callable[[S], R]) -> None:
        self._rows, self._convert = rows, convert

    def count(self, value: object = None) -> int:  # what Paginator calls (one COUNT query)
        return self._rows.count()

    def __len__(self) -> int:
        return self._rows.count()

    @overload
    def __getitem__(self, index: int) -> R: ...
    @overload
    def __getitem__(self, index: slice) -> list[R]: ...

    def __getitem__(self, index: int | slice) -> R | list[R]:
        if isinstance(index, slice):
            return [self._convert(row) for row in self._rows[index]]
        return self._convert(self._rows[index])


def onboarding_tallies() -> list[Tally]:
    """Active organizations per onboarding status, every status listed (zero included), in onboarding order."""
    active = active_only(ClientOrganization.objects.all())
    counts = dict(active.order_by().values_list("onboarding_status").annotate(n=Count("pk")))
    return [Tally(status.label, counts.get(status.value, 0)) for status in OnboardingStatus]


def health_tallies(now: datetime | None = None) -> list[Tally]:
    """Active organizations per health level, worst first (an offboarded client is neither OK nor failing)."""
    counts = dict(with_health(active_only(ClientOrganization.objects.all()), now).order_by().values_list("health_level")
                  .annotate(n=Count("pk")))
    return [Tally(level.label, counts.get(level.value, 0), level.slug) for level in sorted(Level, reverse=True)]


def attention_page(number: str | int | None, now: datetime | None = None) -> Page[AttentionRow]:
    """One page of the organizations that need attention now, broken first; `object_list` holds `AttentionRow`s."""
    rows = MappedRows(needs_attention(ClientOrganization.objects.all(), now), lambda o: AttentionRow(o, organization_health(o)))
    return Paginator(rows, ATTENTION_PAGE_SIZE).get_page(number)


def deliveries_per_hour(now: datetime | None = None) -> DeliveryChart:
    """Connect messages received per hour (and how many of them were quarantined) over the last 24 hours."""
    last_hour = (now or timezone.now()).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    first_hour = last_hour - timedelta(hours=CHART_HOURS - 1)
    rows = (ConnectEvent.objects.filter(received_at__gte=first_hour).order_by()
            .annotate(hour=TruncHour("received_at", tzinfo=UTC)).values("hour")
            .annotate(n=Count("pk"), quarantined=Count("pk", filter=Q(state=ConnectEventState.QUARANTINED))))
    by_hour = {row["hour"]: (row["n"], row["quarantined"]) for row in rows}
    hours = [first_hour + timedelta(hours=i) for i in range(CHART_HOURS)]
    peak = max((by_hour.get(h, (0, 0))[0] for h in hours), default=0)
    pitch = CHART_WIDTH // CHART_HOURS
    bars = []
    for i, hour in enumerate(hours):
        count, quarantined = by_hour.get(hour, (0, 0))
        height, quarantined_height = _scaled(count, peak), _scaled(quarantined, peak)
        bars.append(HourBar(
            start=hour, count=count, quarantined=quarantined, x=i * pitch + BAR_GAP // 2, width=pitch - BAR_GAP,
            y=CHART_HEIGHT - height, height=height, quarantined_y=CHART_HEIGHT - quarantined_height,
            quarantined_height=quarantined_height, label=f"{hour:%H}:00" if i % 6 == 0 else "",
        ))
    return DeliveryChart(bars=bars, total=sum(b.count for b in bars), peak=peak)


def _scaled(value: int, peak: int) -> int:
    """A bar's height in chart units; any non-zero hour stays visible (at least 2 units)."""
    if not value or not peak:
        return 0
    return max(2, round(value * (CHART_HEIGHT - 10) / peak))
