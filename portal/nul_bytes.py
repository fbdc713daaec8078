"""Refuse a request whose path or query string holds a NUL character, before any view runs.

PostgreSQL cannot store or compare text holding NUL (psycopg raises DataError), so such a value reaching any lookup,
an admin filter as much as a URL parameter, was a 500. No URL of the portal has a use for one: 400 Bad Request.
Form fields refuse NUL themselves (Django's ProhibitNullCharactersValidator); the body is not read here.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse


class RefuseNulBytesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info or any("\x00" in key or "\x00" in "".join(values)
                                               for key, values in request.GET.lists()):
            raise BadRequest("The request holds a NUL character.")
        return self.get_response(request)
