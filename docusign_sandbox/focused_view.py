"""DocuSign's focused view: a recipient view that the client's own pages may frame (docs/sandbox.md "Focused view").

`frameAncestors` and `messageOrigins` on POST /envelopes/{id}/views/recipient are checked as DocuSign documents them
(origins only, no paths; https, or http://localhost for development; DocuSign's own signing origin among the frame
ancestors, and as the message origin), stored on the view, and the signing page then answers with
`Content-Security-Policy: frame-ancestors <those origins>` instead of refusing every frame.
References: https://developers.docusign.com/docs/esign-rest-api/how-to/request-signature-focused-view/ and
https://developers.docusign.com/docs/esign-rest-api/esign101/concepts/embedding/docusign-js-embedded-reference/
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase

from .api import ApiError

FIELDS = ("frameAncestors", "messageOrigins")
# DocuSign allows plain http only for local development (the focused view guide); UNVERIFIED whether 127.0.0.1 counts.
DEVELOPMENT_HOSTS = frozenset({"localhost"})
ORIGIN = re.compile(r"(?P<scheme>https?)://(?P<host>[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::(?P<port>\d{1,5}))?",
                    re.IGNORECASE)
# The sandbox's own page policy with the frame ancestors the view was issued for; without them the portal's
# policy (frame-ancestors 'none') and X-Frame-Options DENY stay on the page.
PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
               "base-uri 'none'; form-action 'self' http: https:; frame-ancestors {ancestors}")


def _invalid(detail: str) -> ApiError:
    # UNVERIFIED: DocuSign's exact errorCode and message for a bad frameAncestors/messageOrigins value; the shape
    # ({errorCode, message}, status 400) is DocuSign's, the code is the one it uses for other invalid parameters.
    return ApiError("INVALID_REQUEST_PARAMETER", f"The request contained at least one invalid parameter. {detail}")


def _origin(value: object, field: str, own_origin: str) -> str:
    """`value` as a bare origin (scheme://host[:port]), refused if it is anything else."""
    if not isinstance(value, str):
        raise _invalid(f"'{field}' must be a list of origins.")
    # Whole-value match: the origin goes into a response header, so nothing but a host name (or [IPv6]) and a port
    # may pass; a space or ";" would add sources or directives to the page's policy.
    match = ORIGIN.fullmatch(value)
    if match is None or (match["port"] and not 0 < int(match["port"]) < 65536):
        # "Origins only. Not URLs! No URL paths!" (DocuSign's focused view notes): a path breaks Safari's framing.
        raise _invalid(f"'{field}' value '{value}' must be an origin (scheme://host[:port]) without a path.")
    origin = value.lower()
    if origin == own_origin:
        return origin
    if match["scheme"].lower() == "https" or match["host"].lower() in DEVELOPMENT_HOSTS:
        return origin
    raise _invalid(f"'{field}' value '{value}' must use https (http only for localhost).")


def framing(request: HttpRequest, body: dict[str, Any]) -> dict[str, list[str]]:
    """The focused view's checked origins ({} for a classic view); a bad value is DocuSign's 400."""
    if not any(body.get(field) for field in FIELDS):
        return {}
    # DocuSign's signing origin is apps-d.docusign.com / apps.docusign.com; the sandbox's is its own origin.
    own_origin = request.build_absolute_uri("/").rstrip("/").lower()
    checked: dict[str, list[str]] = {}
    for field in FIELDS:
        values = body.get(field)
        if not isinstance(values, list) or not values:
            raise _invalid(f"'{field}' must be specified for a focused view.")  # UNVERIFIED: DocuSign's answer
        checked[field] = [_origin(value, field, own_origin) for value in values]
        if own_origin not in checked[field]:
            raise _invalid(f"'{field}' must include the signing origin {own_origin}.")
    return checked


def allow_framing(response: HttpResponseBase, view_settings: dict[str, Any]) -> None:
    """Let the page be framed by the view's frame ancestors and by no one else (nothing for a classic view)."""
    ancestors = view_settings.get("frameAncestors")
    if not ancestors:
        return
    response.headers["Content-Security-Policy"] = PAGE_POLICY.format(ancestors=" ".join(ancestors))
    response.xframe_options_exempt = True  # type: ignore[attr-defined]  # Django's XFrameOptionsMiddleware reads it
