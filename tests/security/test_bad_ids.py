"""No 500 from a bad id (issue 12, item 12): every URL pattern, filled with hostile values, answers 4xx or 3xx.

The routes come from `get_resolver()` (tests/security/routes.py), so a pattern added later is swept without anyone
listing it. Each parameter in turn gets each hostile value while the others keep organization A's real objects (so
the request reaches the code behind the first lookup), as a superuser, a client admin and anonymously, GET and POST.
The URL is built from the pattern's text rather than `reverse()`, which refuses values its converter does not
match: the resolver must see them too. Then every changelist with hostile query parameters, every admin action with
hostile selected ids, the admin's own object pages, and the query parameters the portal's pages read.

The two databases fail on different values: SQLite cannot bind an integer beyond 64 bits (OverflowError), PostgreSQL
cannot compare text holding a NUL character (DataError). Run it on both (DATABASE_URL=postgres://...).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import Client

from tests.security.conftest import World
from tests.security.routes import Route, portal_routes

HOSTILE = {
    "huge": str(10**30),
    "40 digits": "9" * 40,
    "bigint + 1": str(2**63),
    "integer + 1": str(2**31),
    "negative": "-1",
    "zero": "0",
    "non-numeric": "abc",
    "float": "1.5",
    "unicode": "ünïcødé-名前",
    "unicode digits": "١٢٣²",  # str.isdigit() says yes, int() says no
    "10 KB": "a" * 10240,
    "10 KB of digits": "1" * 10240,  # beyond Python's 4300-digit int() limit
    "path traversal": "../../../etc/passwd",
    "encoded traversal": "..%2F..%2Fetc%2Fpasswd",
    "NUL": "a\x00b",
    "almost a GUID": "0a1b2c3d-4e5f-6789-abcd-ef012345678g",
}
ROLES = ("superuser", "admin_a", "anonymous")
PLACEHOLDER = "1"  # for a parameter the world has no object for

# A parameter in a pattern's text: <converter:name>, <name>, or a regex group (?P<name>...).
PARAMETER = re.compile(r"<(?:\w+:)?(?P<route>\w+)>|\(\?P<(?P<regex>\w+)>[^)]*\)")


def fill(route: Route, values: dict[str, str]) -> str:
    """The route's path with each parameter replaced by its (percent-encoded) value; slashes are kept as sent."""
    text = PARAMETER.sub(lambda m: quote(values[m["route"] or m["regex"]], safe="/"), route.route)
    return "/" + text.replace("$", "").replace("\\Z", "")


@dataclass(frozen=True)
class Probe:
    role: str
    method: str
    url: str
    label: str

    def __str__(self) -> str:
        shown = self.url if len(self.url) < 160 else self.url[:150] + "..."
        return f"{self.method.upper()} {shown} as {self.role} ({self.label})"


def hostile_urls(world: World) -> Iterator[tuple[str, str]]:
    """(label, URL) for every route with parameters: each parameter in turn hostile, the others real."""
    for route in portal_routes():
        params = sorted({m["route"] or m["regex"] for m in PARAMETER.finditer(route.route)})
        real = {p: (world.value(route, p) or PLACEHOLDER) for p in params}
        for param in params:
            for name, value in HOSTILE.items():
                yield f"{param}={name}", fill(route, {**real, param: value})


def request(client: Client, method: str, url: str, **kwargs: object):
    """One request whose writes, and any database error it caused, are rolled back (PostgreSQL aborts the test's
    transaction after an error, which would make every later probe fail too)."""
    savepoint = transaction.savepoint()
    try:
        return getattr(client, method)(url, **kwargs)
    finally:
        transaction.savepoint_rollback(savepoint)


def failures_of(world: World, probes: Iterator[tuple[str, str, str, str]], **kwargs: object) -> tuple[int, list[str]]:
    clients = {role: world.client(role, raise_request_exception=False) for role in ROLES}
    count, failures = 0, []
    for role, method, url, label in probes:
        count += 1
        response = request(clients[role], method, url, **kwargs)
        if response.status_code >= 500:
            cause = getattr(response, "exc_info", None)
            failures.append(f"{Probe(role, method, url, label)} -> {response.status_code} "
                            f"{cause[0].__name__ + ': ' + str(cause[1])[:120] if cause else ''}")
    return count, failures


def reaches_the_admin_and_onboarding(world: World) -> bool:
    """The sweep means something only if the superuser gets past the admin's sign-in and the client admin past
    onboarding's (a sign-in page answers every hostile id without a 500, and proves nothing)."""
    return (world.client("superuser").get("/admin/tenants/clientorganization/").status_code == 200
            and world.client("admin_a").get(f"/onboarding/{world.org_a.slug}/").status_code == 200)


def test_every_url_pattern_with_a_hostile_id_answers_without_a_server_error(world):
    assert reaches_the_admin_and_onboarding(world)
    urls = list(hostile_urls(world))
    probes = ((role, method, url, label) for role in ROLES for method in ("get", "post") for label, url in urls)

    count, failures = failures_of(world, probes)

    assert count > 1000, count  # the sweep did sweep
    assert not failures, f"{len(failures)} of {count} probes answered 5xx:\n" + "\n".join(failures[:60])
    print(f"{count} hostile-id probes over {len({u for _, u in urls})} URLs: 0 answered 5xx")


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_the_admins_own_object_pages_with_a_hostile_id_redirect_or_answer_404(world, view):
    """For an id that names no row the admin redirects to its index with a message ("... doesn't exist"); staff
    without the permission get 403 before any lookup; a NUL character is refused with 400. Never a 500, never a page."""
    superuser = world.client("superuser", raise_request_exception=False)
    answers = {}
    for model in admin.site._registry:
        for label, value in HOSTILE.items():
            url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/{quote(value, safe='/')}/{view}/"
            answers[(model._meta.label, label)] = request(superuser, "get", url).status_code

    allowed = {302, 403, 404}
    unexpected = {key: status for key, status in answers.items()
                  if status not in allowed and not (key[1] == "NUL" and status == 400)}
    assert not unexpected, unexpected
    assert 302 in answers.values()


# The query parameters the portal's own pages read (onboarding, the OAuth callback, DocuSign's return URLs).
QUERY_PARAMETERS = ("page", "event", "envelope", "state", "code", "error", "next", "ids")


def test_every_portal_page_with_hostile_query_parameters_answers_without_a_server_error(world):
    routes = [r for r in portal_routes() if not r.is_admin and r.name]
    probes = []
    for route in routes:
        params = {m["route"] or m["regex"] for m in PARAMETER.finditer(route.route)}
        url = fill(route, {p: (world.value(route, p) or PLACEHOLDER) for p in params})
        for name in QUERY_PARAMETERS:
            for label, value in HOSTILE.items():
                probes.extend((role, "get", f"{url}?{urlencode({name: value})}", f"{name}={label}")
                              for role in ("admin_a", "anonymous"))

    count, failures = failures_of(world, iter(probes))

    assert len(routes) > 15, len(routes)
    assert not failures, f"{len(failures)} of {count} probes answered 5xx:\n" + "\n".join(failures[:60])


def changelist_params(model_admin: admin.ModelAdmin, client: Client, url: str) -> list[dict[str, str]]:
    """Hostile query strings for one changelist: ordering, page, search, lookups it does not allow, every filter."""
    garbage = ["abc", "-1", str(10**30), "a\x00b", "ünï", "1" * 5000]
    queries: list[dict[str, str]] = [
        *({"o": v} for v in [*garbage, "1.-2.99", "99", "-0", "1..2"]),
        *({"p": v} for v in [*garbage, "999999"]),
        {"q": "x" * 10240}, {"q": "a\x00b"}, {"q": "%_\\'\""},
        {"id__in": "abc,1"}, {"id__in": str(10**30)}, {"pk__gt": "abc"}, {"e": "1"}, {"all": "x"},
        {"_to_field": "password"}, {"_popup": "1", "_to_field": "abc"},
    ]
    for field in model_admin.model._meta.concrete_fields:
        if field.is_relation:  # a local lookup the admin allows on any model: ?organization=..., ?organization__in=...
            queries.extend({f"{field.name}{lookup}": v} for lookup in ("", "__in", "__exact") for v in garbage)
    page = client.get(url)
    if page.status_code == 200 and page.context and "cl" in page.context:
        for spec in page.context["cl"].filter_specs:
            for parameter in spec.expected_parameters():
                queries.extend({parameter: v} for v in [*garbage, "2026-13-45"])
    if model_admin.date_hierarchy:
        field = model_admin.date_hierarchy
        queries.extend({f"{field}__{part}": v} for part in ("year", "month", "day") for v in [*garbage, "0"])
    return queries


def test_every_admin_action_with_hostile_selected_ids_answers_without_a_server_error(world):
    """An action posts the ids of the rows ticked on the changelist; a hand-made POST can tick anything."""
    assert reaches_the_admin_and_onboarding(world)
    superuser = world.client("superuser")
    probes = []
    for model, model_admin in admin.site._registry.items():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        request_for_actions = superuser.get(url).wsgi_request
        for action in model_admin.get_actions(request_for_actions):
            for name, value in HOSTILE.items():
                probes.append((action, url, name, value))

    clients = {role: world.client(role, raise_request_exception=False) for role in ROLES}
    failures = []
    for action, url, name, value in probes:
        for role, client in clients.items():
            response = request(client, "post", url, data={"action": action, "_selected_action": value, "index": "0"})
            if response.status_code >= 500:
                failures.append(f"POST {url} action={action} _selected_action={name} as {role} -> {response.status_code}")

    assert len(probes) > 50, len(probes)
    assert not failures, f"{len(failures)} of {len(probes) * len(ROLES)} probes answered 5xx:\n" + "\n".join(failures[:60])


@pytest.mark.parametrize("url", ["/onboarding/acme/envelopes/x/documents/a%00b/", "/admin/tenants/auditevent/?action=a%00b",
                                 "/onboarding/?next=%00", "/docusign/callback/?state=a%00b&code=1", "/accounts/login/?a%00=1"])
def test_a_nul_byte_in_the_path_or_query_string_is_refused_before_any_view_runs(world, url):
    """PostgreSQL cannot compare text with a NUL character (a DataError, so a 500, wherever a lookup meets one);
    no URL of the portal has a use for one."""
    for role in ROLES:
        response = request(world.client(role, raise_request_exception=False), "get", url)
        assert response.status_code == 400, (role, response.status_code)


def test_every_changelist_with_hostile_query_parameters_answers_without_a_server_error(world):
    assert reaches_the_admin_and_onboarding(world)
    superuser = world.client("superuser")
    probes = []
    for model, model_admin in admin.site._registry.items():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for params in changelist_params(model_admin, superuser, url):
            probes.extend((role, "get", f"{url}?{urlencode(params)}", str(params)[:80]) for role in ROLES)

    count, failures = failures_of(world, iter(probes))

    assert not failures, f"{len(failures)} of {count} probes answered 5xx:\n" + "\n".join(failures[:60])
    print(f"{count} hostile changelist queries over {len(admin.site._registry)} changelists: 0 answered 5xx")


@pytest.mark.parametrize("value", list(HOSTILE.values()) + ["abc,-1," + str(10**30), ",,,", "١٢٣,²"],
                         ids=[*HOSTILE, "mixed list", "commas", "unicode digits list"])
def test_the_admin_pages_query_parameters_with_hostile_values_answer_without_a_server_error(world, value):
    """The ids and page numbers the admin's own pages read from the query string or the form."""
    organization = world.org_a.pk
    probes = [
        ("superuser", "get", f"/admin/tenants/clientorganization/setup-docusign-account/?{urlencode({'ids': value})}", "ids"),
        ("superuser", "get", f"/admin/dashboard/?{urlencode({'page': value})}", "page"),
        ("superuser", "get", f"/admin/tenants/clientorganization/{organization}/health/?{urlencode({'page': value})}", "page"),
    ]
    count, failures = failures_of(world, iter(probes))
    _, posted = failures_of(world, iter([("superuser", "post", "/admin/tenants/clientorganization/setup-docusign-account/",
                                          "ids")]), data={"ids": value})

    assert not failures + posted, "\n".join(failures + posted)
