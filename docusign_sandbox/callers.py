"""The authenticated caller of each sandbox request in flight, for the request log row the middleware writes."""

from __future__ import annotations

import weakref

from django.http import HttpRequest

# (account_id, user_id) per request; an entry goes with its request.
_callers: weakref.WeakKeyDictionary[HttpRequest, tuple[str, str]] = weakref.WeakKeyDictionary()


def record_caller(request: HttpRequest, *, account_id: str, user_id: str) -> None:
    """Name the caller in `request`'s log row (written once the answer is known)."""
    _callers[request] = (account_id, user_id)


def pop_caller(request: HttpRequest) -> tuple[str, str]:
    """(account_id, user_id) recorded for `request`, or ("", "") for an unauthenticated one."""
    return _callers.pop(request, ("", ""))
