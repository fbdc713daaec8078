"""docs/security.md OA-6 (open redirects), DP-3 (host and proxy trust) and WH-7 (CSRF on everything but the webhook).

Already covered elsewhere: the callback's 302 without code/state, its no-store and no-referrer headers and its escaped
error page (tests/onboarding/test_connect.py, test_state_abuse.py); the listener's 405, 413 and a token-less POST to the
sign-in page (tests/connect/test_listener_hmac.py). Here every `next` a view accepts, Host and X-Forwarded-Proto, and
the CSRF check over every route of the URLconf.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from docusign_integration.models import OAuthState
from tests import factories
from tests.security.crawl import get_routes
from tests.security.routes import portal_routes

EVIL_NEXT = ["//evil.example", "https:evil.example", "/\\evil.example", "https://evil.example", "\\\\evil.example/x",
             "https://testserver@evil.example/"]


def stays_on_portal(location: str) -> bool:
    """True when a browser following `location` stays on this host (backslashes count as slashes, as browsers do)."""
    parts = urlsplit(location.replace("\\", "/"))
    return parts.scheme in ("", "http", "https") and parts.netloc in ("", "testserver")


@pytest.mark.parametrize("bad", EVIL_NEXT)
@pytest.mark.parametrize("login_url", ["/accounts/login/", "/admin/login/"])
def test_signing_in_with_a_foreign_next_lands_on_the_portal(db, login_url, bad):
    factories.user("admin-a", is_staff=True)

    response = Client().post(login_url, {"username": "admin-a", "password": factories.PASSWORD, "next": bad})

    assert response.status_code == 302
    assert stays_on_portal(response["Location"]) and "evil" not in response["Location"], response["Location"]


@pytest.mark.parametrize("bad", EVIL_NEXT)
def test_signing_out_with_a_foreign_next_stays_on_the_portal(db, bad):
    client = Client()
    client.force_login(factories.user("admin-a"))

    response = client.post("/accounts/logout/", {"next": bad})

    assert response.status_code in (200, 302)
    assert response.status_code == 200 or stays_on_portal(response["Location"]), response.get("Location")


@pytest.mark.parametrize("bad", EVIL_NEXT)
def test_consent_started_with_a_foreign_next_returns_to_the_checklist(db, bad):
    organization = factories.organization("Acme Corp")
    client = Client()
    client.force_login(factories.client_admin("admin-a", organization))

    response = client.get(reverse("docusign:consent_start", args=[organization.slug, "individual"]), {"next": bad})

    assert response.status_code == 302
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    assert OAuthState.objects.get(organization_id=organization.pk).payload["next"] == f"/onboarding/{organization.slug}/"
    assert bad not in state


def test_a_request_for_another_host_gets_400(db):
    assert Client().get("/healthz", HTTP_HOST="evil.example").status_code == 400
    assert Client().get("/healthz").status_code == 200


def test_a_forged_x_forwarded_proto_is_not_trusted_unless_the_proxy_setting_is_on(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    forged = {"HTTP_X_FORWARDED_PROTO": "https"}

    # A page, not /healthz: the probes are exempt from the https redirect (portal/settings/ SECURE_REDIRECT_EXEMPT).
    direct = Client().get("/accounts/login/", **forged)  # no proxy configured: still plain HTTP, so redirected to https
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    behind_proxy = Client().get("/accounts/login/", **forged)

    assert direct.status_code == 301 and direct["Location"].startswith("https://")
    assert behind_proxy.status_code == 200


def test_only_the_connect_listener_is_csrf_exempt():
    routes = [route for route in portal_routes() if getattr(route.callback, "csrf_exempt", False)]
    exempt = {route.name for route in routes if not route.name.startswith("api:")}

    # And make run's stand-in for the ISV's product (DEBUG only: 404 otherwise, see the next test).
    assert exempt == {"docusign:connect_listener", "dev_webhook_receiver"}
    # The ISV API's views are CSRF-exempt as DRF makes them, which is safe only because no cookie authenticates them:
    # each takes an API key in its Authorization header and nothing else.
    for route in routes:
        view = getattr(route.callback, "cls", None)
        if route.name.startswith("api:") and view is not None and route.name not in ("api:schema", "api:docs", "api:redoc"):
            assert [c.__name__ for c in view.authentication_classes] == ["OrganizationKeyAuthentication"], route.name


def test_a_post_without_a_csrf_token_is_refused_on_every_other_route(world):
    routes, _ = get_routes(world)
    client = world.client("superuser", enforce_csrf_checks=True)
    client.get("/accounts/login/")  # a CSRF cookie, as a browser has; only the token in the form is missing
    accepted = [f"POST {url}: {status}" for route, url in routes if route.name != "docusign:connect_listener"
                for status in [client.post(url, {"name": "x"}).status_code]
                if status != 403 and not (route.name == "dev_webhook_receiver" and status == 404)  # DEBUG is off
                # The API takes no session: a signed-in browser's POST is unauthenticated there (or not allowed).
                and not (route.name.startswith("api:") and status in (401, 405))]

    assert not accepted
    assert len(routes) > 50
