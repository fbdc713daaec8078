"""Refresh tokens: rotation, the `extended` lifetime, and revocation from Connected apps (docs/docusign.md §3.4, §4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from docusign_sandbox.auth import hash_token
from docusign_sandbox.models import RefreshToken, SandboxControl
from tests.sandbox import consent_through_pages, csrf_token, exchange_code, refresh, sign_in, userinfo

pytestmark = pytest.mark.django_db(transaction=True)


def _tokens(sandbox, scope: str, email: str = "system@acme.example") -> dict:
    code = consent_through_pages(sandbox, email, scope=scope)["code"][0]
    response = exchange_code(sandbox, code)
    assert response.status_code == 200, response.text
    return response.json()


def _expiry(refresh_token: str):
    return RefreshToken.objects.get(token_hash=hash_token(refresh_token)).expires_at


def _move_clock(days: int) -> None:
    SandboxControl.objects.update_or_create(pk=1, defaults={"clock_offset_seconds": timedelta(days=days).total_seconds()})


def test_refresh_returns_a_new_refresh_token_and_the_used_one_stops_working(sandbox):
    first = _tokens(sandbox, "signature")

    second = refresh(sandbox, first["refresh_token"])

    assert second.status_code == 200
    body = second.json()
    assert body["refresh_token"] != first["refresh_token"] and body["expires_in"] == 28800
    assert userinfo(sandbox, body["access_token"]).status_code == 200
    reused = refresh(sandbox, first["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_without_extended_the_new_refresh_token_keeps_the_original_expiry(sandbox):
    first = _tokens(sandbox, "signature")
    _move_clock(days=10)

    second = refresh(sandbox, first["refresh_token"]).json()

    assert _expiry(second["refresh_token"]) == _expiry(first["refresh_token"])


def test_with_extended_each_refresh_gets_a_full_thirty_days(sandbox):
    first = _tokens(sandbox, "signature extended")
    _move_clock(days=10)

    second = refresh(sandbox, first["refresh_token"]).json()

    assert _expiry(second["refresh_token"]) - _expiry(first["refresh_token"]) >= timedelta(days=10)


def test_a_refresh_token_expires_after_thirty_days(sandbox):
    first = _tokens(sandbox, "signature")
    _move_clock(days=31)

    assert refresh(sandbox, first["refresh_token"]).json()["error"] == "invalid_grant"


def test_revoking_in_connected_apps_kills_refresh_tokens_but_not_live_access_tokens(sandbox):
    tokens = _tokens(sandbox, "signature extended")

    with requests.Session() as session:
        page = session.get(f"{sandbox.url}/me/connected-apps", timeout=10)  # redirected to sign in
        page = sign_in(session, page, "system@acme.example")
        page = session.get(f"{sandbox.url}/me/connected-apps", timeout=10)
        assert "ISV Partner Portal" in page.text and "extended signature" in page.text
        revoke_url = f"{sandbox.url}/me/connected-apps/{sandbox.seed['integration_key']}/revoke"
        after = session.post(revoke_url, data={"csrfmiddlewaretoken": csrf_token(page)}, timeout=10)

    assert "Access was revoked." in after.text and "You have not allowed any app." in after.text
    assert refresh(sandbox, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert userinfo(sandbox, tokens["access_token"]).status_code == 200


def test_a_refresh_without_the_client_secret_is_refused(sandbox):
    first = _tokens(sandbox, "signature")

    response = requests.post(f"{sandbox.url}/oauth/token", timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": sandbox.seed["integration_key"]})

    assert response.status_code == 400 and response.json()["error"] == "invalid_client"
    assert refresh(sandbox, first["refresh_token"]).status_code == 200
