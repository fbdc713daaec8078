"""The control API's `/_sandbox/site`: move an account to another site (its `base_uri`), as a test or developer
needs to put accounts on chosen origins (docs/sandbox.md "Sites")."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, JsonResponse

from . import sites
from .control_views import BadRequest, _body, control_endpoint
from .models import Account


def _origin(value: object) -> str:
    """A bare http(s) origin, normalised; "" puts the account back at the sandbox's configured origin."""
    if value == "":
        return ""
    if not isinstance(value, str) or len(value) > 200:
        raise BadRequest("base_uri must be a string such as https://localhost:8001, or \"\".")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.fragment or parts.username or parts.password:
        raise BadRequest("base_uri must be a bare origin: scheme, host and port, no path.")
    return sites.normalised(value)


@control_endpoint(["POST"])
def site(request: HttpRequest) -> HttpResponse:
    """`{account_id, base_uri}`: the account's site from now on (userinfo and the site check follow it)."""
    body = _body(request)
    base_uri = _origin(body.get("base_uri"))
    updated = Account.objects.filter(account_id__iexact=str(body.get("account_id") or "")).update(base_uri=base_uri)
    if not updated:
        raise BadRequest("No such account.")
    return JsonResponse({"account_id": body["account_id"], "base_uri": base_uri})
