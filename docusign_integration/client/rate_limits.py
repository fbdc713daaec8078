"""What `http.call` remembers of DocuSign's answers about an account's API budget (docs/docusign.md §9).

The state lives in AccountRateLimit, read and written on its own connection to the same database
(`settings.DOCUSIGN_RATE_LIMIT_DATABASE`, in autocommit), never on the caller's: a DocuSign call made inside a
caller's `transaction.atomic()` then holds no lock on the account's row until that transaction ends (which
would serialise every other call for the account), and a rollback of the caller cannot undo a block DocuSign
imposed. The table rather than the cache: the health rules and the dashboard read it together with the
organizations, and a per-process cache (the embedded default's) would not share a block between web and worker.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from docusign_integration.client.models import AccountRateLimit

logger = logging.getLogger(__name__)

FIELDS = frozenset({"limit", "remaining", "reset_at", "burst_limit", "burst_remaining", "blocked_until"})


def _database() -> str:
    return settings.DOCUSIGN_RATE_LIMIT_DATABASE


def blocked_until(environment: str, account_id: str) -> datetime | None:
    """When the account's block ends, if DocuSign blocked it and the block still runs; else None."""
    try:
        until = (AccountRateLimit.objects.using(_database()).filter(environment=environment, account_id=account_id)
                 .values_list("blocked_until", flat=True).first())
    except DatabaseError:
        logger.warning("rate_limit_state_unreadable environment=%s account=%s", environment, account_id, exc_info=True)
        return None
    return until if until and until > timezone.now() else None


def record(environment: str, account_id: str, **values: object) -> None:
    """Store `values` (AccountRateLimit fields) for the account in one upsert, committed at once.

    A failure is logged, not raised: the DocuSign call it belongs to already happened, and turning its answer
    (an envelope sent, say) into an error would make the caller retry it. DocuSign still enforces its limits.
    """
    if not values or not settings.DOCUSIGN_RATE_LIMIT_RECORDING:
        return
    unknown = values.keys() - FIELDS
    if unknown:
        raise TypeError(f"Not rate-limit fields: {sorted(unknown)}")
    database = _database()
    row = AccountRateLimit(environment=environment, account_id=account_id, **values)
    try:
        # A savepoint when the connection is the caller's (tests); on its own connection, a short transaction.
        with transaction.atomic(using=database):
            AccountRateLimit.objects.using(database).bulk_create(
                [row], update_conflicts=True, unique_fields=["environment", "account_id"],
                update_fields=[*sorted(values), "updated_at"])
    except DatabaseError:
        logger.warning("rate_limit_state_not_recorded environment=%s account=%s fields=%s", environment, account_id,
                       ",".join(sorted(values)), exc_info=True)


# "Near its limit": under this share of the hourly limit left in the current window. The health page's and the
# metrics' rule (tenants/health.py, portal/metrics_view.py); background polling (the ISV account's sweep) waits then,
# leaving the rest of the hour to the calls people are waiting for (sends, signing views).
NEAR_LIMIT_PERCENT = 10


def near_hourly_limit(environment: str, account_id: str) -> AccountRateLimit | None:
    """The account's recorded budget when a block runs or, in the current window, under NEAR_LIMIT_PERCENT of its
    hourly limit is left; else None (plenty left, the window has reset since, or nothing recorded yet)."""
    now = timezone.now()
    try:
        budget = (AccountRateLimit.objects.using(_database()).filter(environment=environment, account_id=account_id)
                  .first())
    except DatabaseError:
        logger.warning("rate_limit_state_unreadable environment=%s account=%s", environment, account_id, exc_info=True)
        return None
    if budget is None:
        return None
    if budget.blocked_until and budget.blocked_until > now:
        return budget
    in_window = budget.reset_at is not None and budget.reset_at > now
    low = budget.limit and budget.remaining is not None and budget.remaining * 100 < budget.limit * NEAR_LIMIT_PERCENT
    return budget if in_window and low else None
