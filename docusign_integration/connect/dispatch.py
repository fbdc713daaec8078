"""Handing stored Connect events to Celery: one message for the events that arrive together.

A Celery publish costs the listener about as much CPU as everything else it does for a delivery (building the
message, kombu, a new Redis client and a round trip: ~0.45 ms here), so publishing one message per delivery caps how
many deliveries a web worker acknowledges. Instead each committed event joins this process's pending list and the
request thread that finds no publish in progress sends everything pending as one `process_connect_events` message.
A lone delivery is therefore published at once, by its own request; under load one message carries the events
that arrived while the previous publish was on the wire. Nothing waits on a timer, and no thread of our own runs.

Events that never reach the broker (broker down, or the process killed with ids pending) stay `received` in the
database, where `sweep_connect_events` finds them within a few minutes (docs/security.md WH-6): an acknowledged
delivery is never lost, only later.
"""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger(__name__)

MAX_EVENTS_PER_MESSAGE = 100  # bounds one task's run time; the task refuses a longer list

_pending: list[int] = []
_pending_lock = threading.Lock()
_publishing = threading.Lock()


def queue_processing(event_id: int) -> None:
    """Have `event_id` processed by a worker; call after the event's row is committed."""
    with _pending_lock:
        _pending.append(event_id)
    while _publishing.acquire(blocking=False):
        try:
            _publish_pending()
        finally:
            _publishing.release()
        # A thread that added an id after our last look, while we still held the publishing lock, found it taken
        # and left its id to us: look once more now that the lock is free, or that id would wait for the sweeper.
        with _pending_lock:
            if not _pending:
                return
    # Another thread is publishing: it sends our id before it lets go of the lock (see above).


def _publish_pending() -> None:
    from docusign_integration.connect.tasks import (
        process_connect_events,  # the task module imports connect_events, which imports us
    )

    while True:
        with _pending_lock:
            event_ids = _pending[:MAX_EVENTS_PER_MESSAGE]
            del _pending[:MAX_EVENTS_PER_MESSAGE]
        if not event_ids:
            return
        try:
            # No publish retries: while the broker is down each retry would hold DocuSign's request for a second or
            # more, and the sweeper queues whatever was stored but not queued.
            process_connect_events.apply_async(args=(event_ids,), retry=False)
        except Exception:  # broker down: the events are stored and acknowledged; the sweeper queues them later
            logger.warning("%d Connect events stored but not queued (broker unavailable); the sweeper will queue them",
                           len(event_ids))
