"""Requesting every route of the portal as a role, and what a response exposes (body, headers, cookies)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.http import HttpResponse

from tests.security.routes import Route, Unfillable, build_url, portal_routes


@dataclass
class Visit:
    role: str
    route: Route
    url: str
    response: HttpResponse
    body: bytes

    @property
    def exposed(self) -> str:
        """Everything the browser receives: status line aside, the body, every header and every cookie."""
        headers = "\n".join(f"{k}: {v}" for k, v in self.response.items())
        return "\n".join((self.body.decode("utf-8", "replace"), headers, self.response.cookies.output()))

    def __str__(self) -> str:
        return f"GET {self.url} as {self.role} -> {self.response.status_code}"


def body_of(response: HttpResponse) -> bytes:
    """The whole body, streamed responses (document downloads) included."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def get_routes(world) -> tuple[list[tuple[Route, str]], dict[str, str]]:
    """(route, URL) for every route the world can fill, and {route text: why not} for the others."""
    filled, skipped = [], {}
    for route in portal_routes():
        try:
            filled.append((route, build_url(route, world.value)))
        except Unfillable as exc:
            skipped[route.route] = str(exc)
    return filled, skipped


def crawl(world, roles: tuple[str, ...], **client_options: object) -> Iterator[Visit]:
    """GET every fillable route as each role (never following redirects: each hop is its own response)."""
    routes, _ = get_routes(world)
    for role in roles:
        client = world.client(role, **client_options)
        for route, url in routes:
            response = client.get(url, **client_options.get("extra", {}))
            yield Visit(role, route, url, response, body_of(response))
