"""The polling fallback behind Connect: one sweep per organization reads its account's status changes (journey 7).

A sweep asks DocuSign "which envelopes changed since the watermark (minus an overlap)?" with
`GET /envelopes?from_date=...&to_date=...`, page by page, and applies each status through `envelope_status_apply`
(monotonic, so re-reading the overlap changes nothing). It never GETs a single envelope, so no envelope's status is
ever asked more than once per 15 minutes however often sweeps run (docs/docusign.md §9 polling rule; docs/security.md BG-5).

The window is closed at the sweep's start (`to_date`), so pages cannot grow while they are read; if it shrinks
(an envelope changed again meanwhile and left the window) positions shift and one envelope could be skipped, so the
watermark is then left where it was and the next sweep reads the window again. The watermark moves only after every
page was read. After a rate-limit refusal nothing is called for the account before the reset (`next_allowed_at`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from docusign_integration.client import envelopes as esign_envelopes
from docusign_integration.client import errors
from docusign_integration.client.ids import is_guid
from docusign_integration.envelopes.models.envelopes import CreatedVia
from docusign_integration.envelopes.models.sync import AccountSyncState
from docusign_integration.envelopes.sending import system_user_identity
from docusign_integration.envelopes.status import EnvelopeSummary, SummaryError, envelope_status_apply, parse_docusign_datetime
from tenants.models import ClientOrganization

logger = logging.getLogger(__name__)

# Re-read this much before the watermark: covers clock skew between the portal and DocuSign and changes stamped
# exactly on the previous window's edge (DocuSign: "use overlapping windows").
DEFAULT_OVERLAP = timedelta(minutes=10)
# The first sweep of an organization looks back this far (DocuSign's own examples list the last 30 days).
DEFAULT_INITIAL_LOOKBACK = timedelta(days=30)
# A runaway answer (nextUri forever) must not keep a worker: 200 pages are 20,000 changed envelopes in one window.
MAX_PAGES = 200


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did: DocuSign calls made, envelopes read, statuses that changed, and whether it was complete."""

    calls: int
    envelopes: int
    changes: int
    complete: bool


def _seconds_setting(name: str, default: timedelta) -> timedelta:
    value = getattr(settings, name, None)
    return default if value is None else timedelta(seconds=value)


def sync_state(organization: ClientOrganization) -> AccountSyncState:
    return AccountSyncState.objects.get_or_create(organization=organization)[0]


def envelopes_sweep(organization: ClientOrganization, *, now: datetime | None = None) -> SweepResult:
    """Read every status change of the organization's account since its watermark and apply it.

    `now` is DocuSign's time at the start of the sweep (the real clock by default; simulations pass their own).
    Raises RateLimited (and records the reset) when DocuSign refuses or the account is still blocked, and the
    other DocuSign errors as they come; the watermark is then unchanged.
    """
    now = now or timezone.now()
    state = sync_state(organization)
    if state.next_allowed_at and state.next_allowed_at > timezone.now():
        raise errors.RateLimited(error_code="BLOCKED_LOCALLY", reset_at=state.next_allowed_at)
    from_date = (state.watermark - _seconds_setting("DOCUSIGN_SYNC_OVERLAP_SECONDS", DEFAULT_OVERLAP) if state.watermark
                 else now - _seconds_setting("DOCUSIGN_SYNC_INITIAL_LOOKBACK_SECONDS", DEFAULT_INITIAL_LOOKBACK))
    calls = envelopes = changes = 0
    try:
        identity = system_user_identity(organization)
        first_total: int | None = None
        complete = False
        for _ in range(MAX_PAGES):
            def list_page(bearer: str, start: int = envelopes) -> dict[str, Any]:
                return esign_envelopes.list_status_changes(identity.ref, bearer=bearer, from_date=from_date, to_date=now,
                                                           start_position=start)
            page = identity.call(list_page)
            calls += 1
            items = page.get("envelopes") or []
            if not isinstance(items, list):
                raise errors.BadResponse("DocuSign's status list has no envelopes list.", error_code="UNEXPECTED_SHAPE")
            changes += sum(apply_listed_envelope(organization, item) for item in items)
            envelopes += len(items)
            total = _int(page.get("totalSetSize"))
            first_total = total if first_total is None else first_total
            if not items or envelopes >= total or not page.get("nextUri"):
                complete = total == first_total
                break
    except errors.RateLimited as exc:
        _record_failure(state, exc, next_allowed_at=exc.reset_at)
        raise
    except errors.DocuSignError as exc:
        _record_failure(state, exc)
        raise
    _record_sweep(state, now=now, calls=calls, changes=changes, complete=complete)
    logger.info("envelopes_sweep organization=%s calls=%d envelopes=%d changes=%d complete=%s",
                organization.pk, calls, envelopes, changes, complete)
    return SweepResult(calls=calls, envelopes=envelopes, changes=changes, complete=complete)


def _int(value: object) -> int:
    return int(value) if isinstance(value, str | int) and str(value).isdigit() else 0


def apply_listed_envelope(organization: ClientOrganization, item: Any) -> bool:
    """Apply one `envelope` of the list; anything unreadable is logged and skipped (the rest of the page still counts).

    Also used by the ISV account's sweep (hosting.sweep), once it has routed the envelope to its hosted client."""
    try:
        if not isinstance(item, dict) or not is_guid(item.get("envelopeId")):
            raise SummaryError("no valid envelopeId")
        return envelope_status_apply(
            organization=organization, envelope_id=item["envelopeId"].lower(), status=str(item.get("status")),
            changed_at=parse_docusign_datetime(item.get("statusChangedDateTime"), "statusChangedDateTime"),
            source=CreatedVia.POLL, summary=EnvelopeSummary.from_docusign(item))
    except SummaryError as exc:
        # Statuses the portal does not track (deleted, timedout, processing) land here too.
        logger.warning("envelopes_sweep skipped organization=%s reason=%s", organization.pk, exc)
        return False


def _record_failure(state: AccountSyncState, exc: errors.DocuSignError, *, next_allowed_at: datetime | None = None) -> None:
    fields: dict[str, object] = {"last_error": exc.user_message[:500]}
    if next_allowed_at is not None:
        fields["next_allowed_at"] = next_allowed_at
    AccountSyncState.objects.filter(pk=state.pk).update(**fields)


def _record_sweep(state: AccountSyncState, *, now: datetime, calls: int, changes: int, complete: bool) -> None:
    """Store the sweep's outcome; the watermark only moves forward, and only after a complete sweep."""
    AccountSyncState.objects.filter(pk=state.pk).update(
        last_sweep_at=now, last_sweep_calls=calls, last_sweep_changes=changes, last_error="", next_allowed_at=None)
    if complete:
        # Conditional, so a slower concurrent sweep that started earlier never moves it back.
        AccountSyncState.objects.filter(Q(watermark__isnull=True) | Q(watermark__lt=now), pk=state.pk).update(watermark=now)
    else:
        AccountSyncState.objects.filter(pk=state.pk).update(last_error="DocuSign's answer changed while it was read; "
                                                            "the next sweep reads the same window again.")
    state.refresh_from_db()

