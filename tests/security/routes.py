"""Every route of the portal's URLconf, enumerated from `get_resolver()` and filled with one persona's own objects.

Walking the resolver (rather than listing URLs by hand) is the point: a route added later is crawled, probed and
header-checked without anyone remembering to add it here. A route whose parameters cannot be filled is reported,
and the tests assert exactly which ones those are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.contrib import admin
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern


@dataclass(frozen=True)
class Route:
    """One URL pattern: its reversible name ("namespace:name"), full route text, parameter names and view."""

    name: str | None
    route: str
    params: tuple[str, ...]
    callback: Callable

    @property
    def is_admin(self) -> bool:
        return self.route.startswith("admin/")


def _params(pattern: URLPattern | URLResolver) -> tuple[str, ...]:
    if isinstance(pattern.pattern, RoutePattern):
        return tuple(pattern.pattern.converters)
    return tuple(pattern.pattern.regex.groupindex)


def _walk(patterns: list, prefix: str, namespace: str | None, inherited: tuple[str, ...]) -> Iterator[Route]:
    for pattern in patterns:
        params = inherited + _params(pattern)
        if isinstance(pattern, URLResolver):
            child = ":".join(filter(None, (namespace, pattern.namespace)))
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), child or None, params)
        else:
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield Route(name, (prefix + str(pattern.pattern)).replace("^", ""), params, pattern.callback)


def portal_routes() -> list[Route]:
    """Every URL pattern of the portal (ROOT_URLCONF), the admin's included."""
    return list(_walk(get_resolver().url_patterns, "", None, ()))


def admin_model_for(url_name: str):
    """The registered model an admin URL name belongs to ("admin:tenants_clientorganization_change"), or None."""
    short = url_name.split(":", 1)[-1]
    matches = [m for m in admin.site._registry if short.startswith(f"{m._meta.app_label}_{m._meta.model_name}_")]
    return max(matches, key=lambda m: len(m._meta.model_name), default=None)


class Unfillable(Exception):
    """The route has a parameter this persona owns no object for (or an unnamed pattern that cannot be reversed)."""


def build_url(route: Route, values: Callable[[Route, str], str | None]) -> str:
    """The route's URL with each parameter from `values(route, param)`; Unfillable when one has no value."""
    if route.name is None:
        raise Unfillable("unnamed pattern")
    kwargs = {}
    for param in route.params:
        value = values(route, param)
        if value is None:
            raise Unfillable(param)
        kwargs[param] = value
    try:
        return reverse(route.name, kwargs=kwargs)
    except NoReverseMatch as exc:
        raise Unfillable(str(exc)) from None
