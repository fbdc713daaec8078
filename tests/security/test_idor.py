"""docs/security.md TI-1 and F4: another organization's admin gets the same 404 as for a nonexistent object.

tests/onboarding/test_access.py covers the onboarding patterns with GET and POST and placeholder ids; this matrix
takes every pattern of the portal's own URLconf (onboarding and /docusign/, not the admin's) that names an
organization or one of its objects, fills it with organization A's real objects (an envelope with stored signed
documents, an embedded signer), and sends all five methods as organization B's admin. Nothing may change in the
database. Tenant scoping inside tasks (docs/security.md TI-2) is in tests/envelopes.
"""

from __future__ import annotations

import uuid

from django.apps import apps

from tests.security.conftest import World
from tests.security.routes import Route, build_url, portal_routes

METHODS = ("get", "post", "put", "patch", "delete")
OBJECT_PARAMS = {"slug", "envelope_id"}
PORTAL_APPS = ("tenants", "docusign_integration", "social_django", "auth", "admin")


def object_routes() -> list[Route]:
    # The ISV API (api/) takes no session: every request here is 401 alike; its own cross-tenant matrix, by API key,
    # is tests/api/test_isolation.py.
    return [r for r in portal_routes()
            if not r.is_admin and not r.route.startswith("api/") and OBJECT_PARAMS & set(r.params)]


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count()
            for app in PORTAL_APPS for model in apps.get_app_config(app).get_models()}


def nonexistent(world: World):
    """The same route filled with objects nobody has: an unknown slug and envelope id."""
    def value(route: Route, param: str) -> str | None:
        return {"slug": "no-such-organization", "envelope_id": str(uuid.uuid4())}.get(param) or world.value(route, param)
    return value


def own_slug(world: World):
    """Organization B's own slug with organization A's envelope id."""
    def value(route: Route, param: str) -> str | None:
        return world.org_b.slug if param == "slug" else world.value(route, param)
    return value


def test_organization_b_s_admin_gets_404_on_every_object_of_organization_a(world):
    outsider = world.client("admin_b")
    routes = object_routes()
    before = row_counts()
    failures, probes = [], 0

    for route in routes:
        unknown = build_url(route, nonexistent(world))
        urls = [build_url(route, world.value)]
        if "envelope_id" in route.params:
            urls.append(build_url(route, own_slug(world)))
        for url in urls:
            for method in METHODS:
                probes += 1
                status = getattr(outsider, method)(url).status_code
                baseline = getattr(outsider, method)(unknown).status_code
                # 405 only where the view refuses the method for every object alike (no oracle either way).
                if status != baseline or status not in (404, 405):
                    failures.append(f"{method.upper()} {url}: {status} (nonexistent: {baseline})")

    figure = f"F4: {len(routes)} URL patterns x {len(METHODS)} methods = {probes} cross-tenant probes"
    assert not failures, figure + "\n" + "\n".join(failures)
    assert row_counts() == before, figure
    assert {r.name for r in routes} >= {"onboarding:envelope_document", "onboarding:envelope_sign", "docusign:consent_start",
                                        "docusign:account_setup"}, figure
    print(figure + ": 0 answered other than for a nonexistent object, 0 rows changed")


def test_organization_a_s_own_admin_reaches_the_same_objects(world):
    """The matrix above is meaningful only if the objects it probes are real: A's admin opens them."""
    insider = world.client("admin_a")
    pages = [r for r in object_routes() if r.name in ("onboarding:envelope_detail", "onboarding:envelope_document",
                                                      "onboarding:checklist", "onboarding:envelopes")]

    assert [insider.get(build_url(r, world.value)).status_code for r in pages] == [200] * len(pages)
