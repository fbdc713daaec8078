"""Secrets out of the request URLs that logs record: OAuth codes and states, invitation and reset tokens.

runserver's access log (`django.server`), Django's 4xx/5xx warnings (`django.request`, `django.security.csrf`)
and gunicorn's access log name each request's path, and DocuSign's redirect back carries `?code=...&state=...`.
A URL is resolved against the URLconf: path segments that fill a URL kwarg named as a secret (`token`:
`/onboarding/invitations/<token>/`, `/accounts/reset/<uidb64>/<token>/`) are replaced, every query value of a
route marked `@secret_query_string` (the OAuth callback) is, and elsewhere the query values whose names OAuth
gives its secrets. `RedactSecretsFilter` sits on those loggers in settings.LOGGING; `GunicornLogger` is
gunicorn's `--logger-class` (docs/operations.md).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import unquote, unquote_plus

from django.urls import Resolver404, ResolverMatch, resolve
from gunicorn.glogging import Logger as BaseGunicornLogger

REDACTED = "[redacted]"
# Query parameters and URL kwargs that carry a secret wherever they appear (RFC 6749 §4.1.2, §5.1; PKCE; reset links).
SECRET_NAMES = frozenset({
    "code", "state", "token", "access_token", "refresh_token", "id_token", "client_secret", "code_verifier",
    "assertion", "password", "error_description",  # DocuSign's error_description may echo what the request carried
})
ATTRIBUTE = "secret_query_string"
# An absolute URL (a Referer, a Location), or a path alone ("GET /x?y HTTP/1.1", "Not Found: /x/").
URL_IN_TEXT = re.compile(r"""(?P<origin>https?://[^/?\s"'<>]+)(?P<path>[/?][^\s"'<>]*)?|(?<![\w/:])(?P<bare>/[^\s"'<>]*)""")

View = TypeVar("View", bound=Callable[..., Any])


def secret_query_string(view: View) -> View:
    """Mark `view` as one whose every query value is a secret in a log (an OAuth redirect back: code, state...)."""
    setattr(view, ATTRIBUTE, True)
    return view


def _route(path: str) -> ResolverMatch | None:
    try:
        return resolve(unquote(path))
    except (Resolver404, ValueError):
        return None


def _redact_path(path: str, route: ResolverMatch | None) -> str:
    if route is None:
        return path
    secrets = {str(value) for name, value in route.kwargs.items() if name in SECRET_NAMES}
    if not secrets:
        return path
    return "/".join(REDACTED if unquote(segment) in secrets else segment for segment in path.split("/"))


def _redact_query(query: str, *, every_value: bool) -> str:
    pairs = []
    for pair in query.split("&"):
        name, sep, _ = pair.partition("=")
        if sep and (every_value or unquote_plus(name).lower() in SECRET_NAMES):
            pair = f"{name}={REDACTED}"
        pairs.append(pair)
    return "&".join(pairs)


def redact_url(url: str) -> str:
    """`url` (a path with its query string) with the secrets in its path and query replaced by `[redacted]`."""
    path, sep, query = url.partition("?")
    route = _route(path)
    path = _redact_path(path, route)
    if sep:
        query = _redact_query(query, every_value=route is not None and getattr(route.func, ATTRIBUTE, False))
    return path + sep + query


def redact_text(text: str) -> str:
    """`text` with every URL in it redacted (redact_url)."""
    if "/" not in text:
        return text
    return URL_IN_TEXT.sub(_redact_match, text)


def _redact_match(match: re.Match) -> str:
    if match.group("bare") is not None:
        return redact_url(match.group("bare"))
    return match.group("origin") + redact_url(match.group("path") or "")


class RedactSecretsFilter(logging.Filter):
    """Rewrites the record's message and arguments, so every handler (console, files, error trackers) sees it
    redacted. On a logger, not a handler: a handler's filter would guard that handler only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_text(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


class GunicornLogger(BaseGunicornLogger):
    """gunicorn's logger with every URL of the access log's atoms redacted (%(r)s, %(U)s, %(q)s, %(f)s, headers)."""

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: timedelta) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        path, _, query = redact_url(f"{environ.get('PATH_INFO', '')}?{environ.get('QUERY_STRING', '')}").partition("?")
        for key, value in atoms.items():
            if isinstance(value, str) and "/" in value:
                atoms[key] = redact_text(value)
        atoms.update(U=path, q=query, **{"{path_info}e": path, "{query_string}e": query})
        return atoms
