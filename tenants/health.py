"""An organization's health, derived from the rows the portal already keeps (product journey 8).

Each rule below is a condition on an organization's rows (consent, connections, account, Connect setup, deliveries,
polling, rate limits) with the sentence a person can act on. The conditions run in the database: `with_health`
annotates a queryset with one flag per rule and the overall level, so a list, a count by level or a filter on
"needs attention" costs the same few queries for 3 or 10,000 organizations, and `organization_health` turns one
annotated row into sentences without another query. Rules live once, so the dashboard's counts and a health
page can never disagree.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, TypedDict

from django.db import models
from django.db.models import BooleanField, Case, Count, ExpressionWrapper, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format

from docusign_integration.client import rate_limits
from docusign_integration.client.conf import ENVIRONMENT_CHOICES
from docusign_integration.connect.models import ConnectEventState
from docusign_integration.models import AccountRateLimit, ConnectEvent, DocuSignCredential
from docusign_integration.oauth.models.credentials import CredentialStatus
from docusign_integration.setup.models import SetupStatus
from tenants.active import active_only
from tenants.models import ClientOrganization, ConsentStatus, Hosting
from tenants.onboarding import HOSTED_USER_PENDING, hosted_user_state

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class HealthFigures(TypedDict):
    """What `with_health` adds to each organization besides the rule flags (read with getattr by flag name)."""

    health_level: int
    health_reconnects: int
    health_quarantined: int
    health_waiting: int
    health_deliveries: int
    health_last_delivery_at: datetime | None
    health_limit: int | None
    health_remaining: int | None
    health_reset_at: datetime | None
    health_blocked_until: datetime | None
    health_headroom: int | None

# A stored message still unprocessed after this means its task was lost and the sweeper is not running either:
# the sweeper (beat, every minute) re-queues anything older than a minute.
WAITING_TOO_LONG = timedelta(minutes=5)
FAILURE_WINDOW = timedelta(hours=24)
# Below this share of the hourly budget left, staff should know before DocuSign starts refusing (docs/docusign.md §9).
HEADROOM_FLOOR_PERCENT = rate_limits.NEAR_LIMIT_PERCENT  # the ISV account's sweep waits below it too


class Level(models.IntegerChoices):
    """Worst first when sorted descending; the number is what the database computes and sorts by."""

    OK = 0, "OK"
    ATTENTION = 1, "Needs attention"
    BROKEN = 2, "Broken"

    @property
    def slug(self) -> str:
        return self.name.lower()


class Topic(enum.Enum):
    """The health page's rows, in the order a person works through onboarding."""

    CONSENT = "Consent"
    TOKENS = "Tokens and connections"
    ACCOUNT = "Account and base_uri"
    CONNECT = "Connect configuration"
    DELIVERIES = "Connect deliveries"
    POLLING = "Envelope polling"
    RATE_LIMIT = "Rate-limit headroom"


@dataclass(frozen=True)
class Finding:
    topic: Topic
    level: Level
    sentence: str


@dataclass(frozen=True)
class TopicHealth:
    topic: Topic
    level: Level
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class OrganizationHealth:
    level: Level
    findings: tuple[Finding, ...]

    @property
    def topics(self) -> list[TopicHealth]:
        """Every topic with its worst level and sentences; a topic without findings is OK."""
        rows = []
        for topic in Topic:
            found = [f for f in self.findings if f.topic is topic]
            rows.append(TopicHealth(topic, max((f.level for f in found), default=Level.OK),
                                    tuple(f.sentence for f in found)))
        return rows


@dataclass(frozen=True)
class Rule:
    name: str
    topic: Topic
    level: Level
    condition: Callable[[datetime], Q]  # given "now"; see `_has` for why it never counts per organization
    sentence: Callable[[WithAnnotations[ClientOrganization, HealthFigures]], str]

    @property
    def flag(self) -> str:
        return f"health_{self.name}"


def _when(value: datetime | None) -> str:
    return date_format(value, "DATETIME_FORMAT") + " UTC" if value else "unknown"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _has(rows: QuerySet) -> Q:
    """The organization has a row in `rows` (any model with an `organization`).

    An uncorrelated `IN (SELECT organization_id ...)`: PostgreSQL runs it once per query and hashes the few matching
    rows, so a flag over 10,000 organizations costs one small scan. A correlated COUNT per organization cost
    one lookup per organization per rule, and the plan's estimated cost switched on PostgreSQL's JIT (~0.6 s).
    """
    return Q(pk__in=rows.filter(organization__isnull=False).order_by().values("organization"))


def _account_in(limits: QuerySet[AccountRateLimit]) -> Q:
    """The organization's account has a row in `limits`, which are keyed by (environment, account_id), not by
    organization: one uncorrelated `IN` per environment, for the reason `_has` gives.
    """
    return reduce(or_, (Q(environment=environment, account_id__in=limits.filter(environment=environment).values("account_id"))
                        for environment, _ in ENVIRONMENT_CHOICES))


def _quarantined(now: datetime) -> QuerySet[ConnectEvent]:
    return ConnectEvent.objects.filter(state=ConnectEventState.QUARANTINED, received_at__gte=now - FAILURE_WINDOW)


def _waiting(now: datetime) -> QuerySet[ConnectEvent]:
    return ConnectEvent.objects.filter(state=ConnectEventState.RECEIVED, received_at__lt=now - WAITING_TOO_LONG)


RULES: tuple[Rule, ...] = (
    Rule("no_system_user", Topic.CONSENT, Level.BROKEN, lambda now: Q(system_user__isnull=True, hosting=Hosting.OWN_ACCOUNT),
         lambda o: "No system user is recorded: add the DocuSign user that background work impersonates."),
    # A hosted client's system user is the portal's to create (docusign_integration/hosting/tasks.py).
    Rule("hosted_user_pending", Topic.CONSENT, Level.ATTENTION,
         lambda now: Q(system_user__isnull=True, hosting=Hosting.HOSTED, provisioning_error=""),
         lambda o: HOSTED_USER_PENDING),
    Rule("hosted_user_failed", Topic.CONSENT, Level.BROKEN, lambda now: Q(hosting=Hosting.HOSTED, provisioning_error__gt=""),
         lambda o: hosted_user_state(o, getattr(o, "system_user", None))),
    Rule("consent_revoked", Topic.CONSENT, Level.BROKEN,
         lambda now: Q(system_user__consent_status=ConsentStatus.REVOKED),
         lambda o: f"Consent was revoked: background work stops. Send {o.system_user.email} a consent link "
                   "again (Show consent links), then Check consent."),
    Rule("consent_missing", Topic.CONSENT, Level.ATTENTION,
         lambda now: Q(system_user__consent_status__in=[ConsentStatus.UNKNOWN, ConsentStatus.REQUIRED]),
         lambda o: f"Consent is not given yet: send {o.system_user.email} a consent link (Show consent links), "
                   "then Check consent."),
    Rule("jwt_grant_failing", Topic.TOKENS, Level.BROKEN,
         lambda now: Q(system_user__consent_status__in=[ConsentStatus.GRANTED, ConsentStatus.UNKNOWN])
         & Q(system_user__last_error__gt=""),
         lambda o: f"The last consent check failed: {o.system_user.last_error}"),
    Rule("credentials_need_reconnect", Topic.TOKENS, Level.ATTENTION,
         lambda now: _has(DocuSignCredential.objects.filter(status=CredentialStatus.NEEDS_RECONNECT)),
         lambda o: f"{_plural(o.health_reconnects, 'client admin connection')} to DocuSign need reconnecting: the "
                   "client admin signs in to the portal and clicks Connect to DocuSign again."),
    Rule("no_account", Topic.ACCOUNT, Level.ATTENTION, lambda now: Q(account_id__isnull=True),
         lambda o: "No DocuSign account is linked yet: it is recorded when the system user's consent is verified."),
    # Before consent, an unknown base_uri is expected (userinfo gives it); "consent missing" already says what to do.
    Rule("no_base_uri", Topic.ACCOUNT, Level.BROKEN,
         lambda now: Q(account_id__isnull=False, base_uri="", system_user__consent_status=ConsentStatus.GRANTED),
         lambda o: "The account's base_uri is unknown, so no eSignature call can be made: run Check consent to read "
                   "it from userinfo."),
    Rule("setup_not_run", Topic.CONNECT, Level.ATTENTION,
         lambda now: Q(base_uri__gt="") & (Q(account_setup__isnull=True) | Q(account_setup__status=SetupStatus.UNKNOWN)),
         lambda o: "Setup DocuSign account has not succeeded yet, so DocuSign sends no Connect messages: run it"
                   + (f" ({o.account_setup.last_error})" if getattr(o, "account_setup", None) and
                      o.account_setup.last_error else "") + "."),
    Rule("setup_drifted", Topic.CONNECT, Level.ATTENTION, lambda now: Q(account_setup__status=SetupStatus.DRIFTED),
         # Not "someone changed it in DocuSign": staff editing the setup profile makes every account differ too.
         # The organization's page says which it was, field by field (pages/admin_org_page.py).
         lambda o: f"The account differs from the setup profile ({', '.join(o.account_setup.drift) or 'settings'}): "
                   "the profile was edited, or the account was changed in DocuSign: run Setup DocuSign account (the "
                   "organization's page says where each difference came from)."),
    Rule("setup_missing", Topic.CONNECT, Level.BROKEN, lambda now: Q(account_setup__status=SetupStatus.MISSING),
         lambda o: "The portal's Connect configuration is gone from the account, so no Connect messages arrive: run "
                   "Setup DocuSign account."),
    Rule("setup_failed", Topic.CONNECT, Level.BROKEN, lambda now: Q(account_setup__status=SetupStatus.ERROR),
         lambda o: f"Setup DocuSign account failed: {o.account_setup.last_error}"),
    Rule("deliveries_quarantined", Topic.DELIVERIES, Level.ATTENTION, lambda now: _has(_quarantined(now)),
         lambda o: f"{_plural(o.health_quarantined, 'Connect message')} in the last 24 h could not be applied: "
                   "see Connect messages for each reason, then replay them (manage.py replay_connect_events)."),
    Rule("deliveries_waiting", Topic.DELIVERIES, Level.ATTENTION, lambda now: _has(_waiting(now)),
         lambda o: f"{_plural(o.health_waiting, 'Connect message')} have waited over 5 minutes to be processed: check "
                   "that the Celery workers and beat are running."),
    Rule("polling_failing", Topic.POLLING, Level.ATTENTION, lambda now: Q(sync_state__last_error__gt=""),
         lambda o: f"The last envelope status sweep failed: {o.sync_state.last_error}"),
    Rule("rate_limit_blocked", Topic.RATE_LIMIT, Level.BROKEN,
         lambda now: _account_in(AccountRateLimit.objects.filter(blocked_until__gt=now)),
         lambda o: f"DocuSign's API rate limit for this account was reached: the portal makes no call until "
                   f"{_when(o.health_blocked_until)}."),
    Rule("rate_limit_low", Topic.RATE_LIMIT, Level.ATTENTION,
         # remaining / limit below the floor, without dividing: remaining * 100 < limit * floor (a zero or unknown
         # limit never counts)
         lambda now: _account_in(AccountRateLimit.objects.filter(reset_at__gt=now, limit__gt=0)
                                 .alias(remaining_percent=models.F("remaining") * 100)
                                 .filter(remaining_percent__lt=models.F("limit") * HEADROOM_FLOOR_PERCENT)),
         lambda o: f"Only {o.health_remaining} of {o.health_limit} API calls are left until {_when(o.health_reset_at)}: "
                   "background work slows down; look for a task calling DocuSign more than it should."),
)


def _per_organization_count(queryset: QuerySet) -> Coalesce:
    """COUNT of `queryset`'s rows for the outer organization, as a subquery (no JOIN that multiplies rows)."""
    counted = (queryset.filter(organization=OuterRef("pk")).order_by().values("organization")
               .annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(counted), 0)


def with_health(queryset: QuerySet[ClientOrganization], now: datetime | None = None,
                ) -> QuerySet[WithAnnotations[ClientOrganization, HealthFigures]]:
    """`queryset` with what `organization_health` reads: joined one-to-one rows, the rule flags, `health_level` (a
    `Level` value), and the counts and rate limit the sentences quote, all computed in the same single query.

    The flags and the level read no per-organization subquery (see `_has`), so counting or sorting 10,000
    organizations by level stays cheap. The quoted figures are per-organization subqueries that nothing filters or
    sorts on: PostgreSQL computes them only for the rows a page shows (after its ORDER BY ... LIMIT).
    """
    now = now or timezone.now()
    events = ConnectEvent.objects.all()
    limits = AccountRateLimit.objects.filter(environment=OuterRef("environment"), account_id=OuterRef("account_id"))
    queryset = queryset.select_related("system_user", "account_setup", "sync_state")
    queryset = queryset.annotate(**{rule.flag: ExpressionWrapper(rule.condition(now), output_field=BooleanField())
                                    for rule in RULES})
    queryset = queryset.annotate(health_level=Case(
        *(When(reduce(or_, (Q(**{r.flag: True}) for r in RULES if r.level == level)), then=Value(int(level)))
          for level in (Level.BROKEN, Level.ATTENTION)),
        default=Value(int(Level.OK)), output_field=models.IntegerField(),
    ))
    return queryset.annotate(
        health_reconnects=_per_organization_count(
            DocuSignCredential.objects.filter(status=CredentialStatus.NEEDS_RECONNECT)),
        health_quarantined=_per_organization_count(_quarantined(now)),
        health_waiting=_per_organization_count(_waiting(now)),
        health_deliveries=_per_organization_count(events.filter(received_at__gte=now - FAILURE_WINDOW)),
        health_last_delivery_at=Subquery(
            events.filter(organization=OuterRef("pk")).order_by("-received_at").values("received_at")[:1]),
        health_limit=Subquery(limits.values("limit")[:1]),
        health_remaining=Subquery(limits.values("remaining")[:1]),
        health_reset_at=Subquery(limits.values("reset_at")[:1]),
        health_blocked_until=Subquery(limits.values("blocked_until")[:1]),
    ).annotate(
        # Integer percent, for the health page; NULL (no headers seen yet, or a zero limit) never counts as low.
        health_headroom=Case(When(health_limit__gt=0, then=models.F("health_remaining") * 100 / models.F("health_limit")),
                             default=None, output_field=models.IntegerField()),
    )


def needs_attention(queryset: QuerySet[ClientOrganization], now: datetime | None = None,
                    ) -> QuerySet[WithAnnotations[ClientOrganization, HealthFigures]]:
    """The organizations of `queryset` that are not OK, broken first, then by name. An offboarded client needs no
    attention: nothing is done for it any more."""
    return with_health(active_only(queryset), now).filter(health_level__gt=Level.OK).order_by("-health_level", "name", "pk")


def organization_health(organization: WithAnnotations[ClientOrganization, HealthFigures]) -> OrganizationHealth:
    """The findings for one organization loaded through `with_health` (no query is made here)."""
    findings = tuple(Finding(rule.topic, rule.level, rule.sentence(organization))
                     for rule in RULES if getattr(organization, rule.flag))
    return OrganizationHealth(level=Level(organization.health_level), findings=findings)
