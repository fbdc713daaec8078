"""The polling fallback for hosted clients: one account-wide listing of the ISV account, routed locally.

Why not one sweep per hosted system user (as own-account clients have): DocuSign's hourly API limit is per account
(3,000 calls an hour on the default plan, docs/docusign.md §9), and every hosted client shares the ISV account. With
1,000 hosted clients a per-user sweep costs at least 1,000 calls per round, so it could run three times an hour at
most and nothing else could call. One listing as the ISV's administrator system user (account-wide access) with
`include=custom_fields` costs one call per 100 changed envelopes, whatever the number of clients (bench/sync.py).
Each envelope is given to the client its custom field names only if its sender is that client's own system user
(`connect.hosted_routing`); anything else is counted and left alone, never filed under the account.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from docusign_integration.client import envelopes as esign_envelopes
from docusign_integration.client import errors, rate_limits
from docusign_integration.client.custom_fields import hosted_client_named
from docusign_integration.client.ids import is_guid
from docusign_integration.connect.hosted_routing import Unroutable, hosted_organization_for, hosted_organizations
from docusign_integration.envelopes.sync import DEFAULT_INITIAL_LOOKBACK, DEFAULT_OVERLAP, MAX_PAGES, apply_listed_envelope
from docusign_integration.hosting.provisioning import isv_admin
from tenants.models import ClientOrganization, ISVAccount

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ISVSweepResult:
    calls: int
    envelopes: int
    changes: int
    unroutable: int
    complete: bool
    deferred_until: datetime | None = None  # not run: the account is near its hourly limit until then


def _deferred(environment: str) -> ISVSweepResult | None:
    """A sweep left out (no DocuSign call) while the ISV account is near its hourly limit, as the health page says.

    Every hosted client shares the account's budget (docs/docusign.md §9, §10.1); the sweep is only the fallback behind
    Connect, so the last part of the hour is left to the calls people wait for. The next beat run (15 minutes) tries
    again; it is not retried at the reset, where every skipped run would then sweep at once.
    """
    isv_account = ISVAccount.objects.filter(environment=environment).first()
    budget = rate_limits.near_hourly_limit(environment, isv_account.account_id) if isv_account else None
    if budget is None:
        return None
    until = budget.blocked_until if budget.blocked_until and budget.blocked_until > timezone.now() else budget.reset_at
    logger.info("isv_account_sweep deferred environment=%s remaining=%s limit=%s until=%s", environment,
                budget.remaining, budget.limit, until.isoformat() if until else "-")
    return ISVSweepResult(calls=0, envelopes=0, changes=0, unroutable=0, complete=False, deferred_until=until)


def isv_account_sweep(environment: str, *, now: datetime | None = None) -> ISVSweepResult:
    """Read every status change of the ISV account since its watermark and give each to its hosted client."""
    now = now or timezone.now()
    if deferred := _deferred(environment):
        return deferred
    admin = isv_admin(environment)
    isv_account = admin.isv_account
    from_date = (isv_account.sweep_watermark - DEFAULT_OVERLAP if isv_account.sweep_watermark
                 else now - DEFAULT_INITIAL_LOOKBACK)
    calls = envelopes = changes = unroutable = 0
    first_total: int | None = None
    complete = False
    for _ in range(MAX_PAGES):
        page = esign_envelopes.list_status_changes(admin.ref, bearer=admin.bearer, from_date=from_date, to_date=now,
                                                   start_position=envelopes, custom_fields=True)
        calls += 1
        items = page.get("envelopes") or []
        if not isinstance(items, list):
            raise errors.BadResponse("DocuSign's status list has no envelopes list.", error_code="UNEXPECTED_SHAPE")
        # One query per page finds every client the page names (not one per envelope).
        known = hosted_organizations(environment=environment, account_id=isv_account.account_id,
                                     slugs=[slug for item in items if (slug := hosted_client_named(item))])
        for item in items:
            outcome = _route_and_apply(isv_account, item, known)
            changes += outcome is True
            unroutable += outcome is None
        envelopes += len(items)
        total = int(page.get("totalSetSize") or 0) if str(page.get("totalSetSize") or "0").isdigit() else 0
        first_total = total if first_total is None else first_total
        if not items or envelopes >= total or not page.get("nextUri"):
            complete = total == first_total
            break
    fields: dict[str, Any] = {"last_sweep_at": now, "last_sweep_calls": calls, "last_sweep_unroutable": unroutable}
    ISVAccount.objects.filter(pk=isv_account.pk).update(**fields)
    if complete:  # conditional, so a slower concurrent sweep that started earlier never moves it back
        ISVAccount.objects.filter(Q(sweep_watermark__isnull=True) | Q(sweep_watermark__lt=now),
                                  pk=isv_account.pk).update(sweep_watermark=now)
    logger.info("isv_account_sweep environment=%s calls=%d envelopes=%d changes=%d unroutable=%d complete=%s",
                environment, calls, envelopes, changes, unroutable, complete)
    return ISVSweepResult(calls=calls, envelopes=envelopes, changes=changes, unroutable=unroutable, complete=complete)


def _route_and_apply(isv_account: ISVAccount, item: Any, known: Mapping[str, ClientOrganization]) -> bool | None:
    """True/False: applied to its client (changed or not); None: given to no client."""
    try:
        organization = hosted_organization_for(environment=isv_account.environment, account_id=isv_account.account_id,
                                               summary=item, known=known)
    except Unroutable as exc:
        logger.warning("isv_account_sweep unroutable envelope=%s reason=%s",
                       item.get("envelopeId") if isinstance(item, dict) and is_guid(item.get("envelopeId")) else "-", exc)
        return None
    if organization.offboarded_at is not None:
        return None
    return apply_listed_envelope(organization, item)
