"""Impersonation tokens are reused until 5 minutes before expiry, and never cached on refusal (docs/security.md TS-5, OA-7)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from docusign_integration.client import errors, http
from docusign_integration.client.rest import AccountRef, rest_call
from docusign_integration.models import CachedAccessToken
from docusign_integration.oauth import account_server as oauth
from docusign_integration.oauth import tokens

_token_posts: list[str] = []


def grants() -> int:
    """Answers from POST /oauth/token seen at the choke point's session.

    Counted with a requests response hook rather than the sandbox's request log: with in-memory SQLite the
    sandbox shares the test's connection, so its log row is rolled back with a grant that raised.
    """
    return len(_token_posts)


@pytest.fixture(autouse=True)
def count_token_posts(monkeypatch):
    def hook(response, *args, **kwargs):
        if response.request.method == "POST" and response.request.path_url == "/oauth/token":
            _token_posts.append(response.request.path_url)

    _token_posts.clear()
    monkeypatch.setitem(http.session.hooks, "response", [hook])


@pytest.fixture
def frozen_now(monkeypatch):
    """Move the portal's (and the in-process sandbox's) clock: `frozen_now.advance(seconds)`."""
    class Clock:
        value = timezone.now()

        def advance(self, seconds: float) -> None:
            self.value += timedelta(seconds=seconds)

    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: clock.value)
    return clock


def test_200_calls_in_50_minutes_cost_one_grant_and_a_renewal_after_55(sandbox, frozen_now):
    sender = sandbox.user("sender@initech.example")
    ref = None
    for _ in range(200):  # one eSignature call every 15 s: 50 minutes
        token = tokens.get_impersonation_token("sandbox", sender["user_id"])
        if ref is None:
            account = oauth.userinfo("sandbox", token).choose_account()  # once, then reused like the base_uri
            ref = AccountRef("sandbox", account.account_id, account.base_uri)
        assert rest_call(ref, "GET", "/settings", bearer=token).status_code == 200
        frozen_now.advance(15)
    assert grants() == 1

    frozen_now.advance(5 * 60 + 1)  # 55 min 1 s after the grant: inside the 5-minute renewal margin
    renewed = tokens.get_impersonation_token("sandbox", sender["user_id"])
    assert grants() == 2 and renewed != token
    assert rest_call(ref, "GET", "/settings", bearer=renewed).status_code == 200


def test_the_cached_token_is_encrypted_at_rest(sandbox):
    token = tokens.get_impersonation_token("sandbox", sandbox.user("sender@initech.example")["user_id"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token_ciphertext FROM docusign_integration_cachedaccesstoken")
        (stored,) = cursor.fetchone()
    assert token not in stored and stored.startswith("v1.")


def test_consent_required_is_raised_every_time_and_never_cached(sandbox):
    system_user = sandbox.user("system@acme.example")["user_id"]
    for _ in range(2):
        with pytest.raises(errors.ConsentRequired):
            tokens.get_impersonation_token("sandbox", system_user)
    assert grants() == 2
    assert not CachedAccessToken.objects.exclude(access_token_ciphertext="").exists()


def test_forgetting_a_user_makes_the_next_call_grant_again(sandbox):
    user_id = sandbox.user("sender@initech.example")["user_id"]
    first = tokens.get_impersonation_token("sandbox", user_id)
    assert tokens.forget_impersonation_token("sandbox", user_id) == 1
    assert tokens.get_impersonation_token("sandbox", user_id) != first
    assert grants() == 2


def test_scopes_in_another_order_share_the_cached_token(sandbox):
    user_id = sandbox.user("sender@initech.example")["user_id"]
    first = tokens.get_impersonation_token("sandbox", user_id, "signature impersonation")
    assert tokens.get_impersonation_token("sandbox", user_id, "impersonation signature") == first
    assert grants() == 1


def test_a_malformed_user_id_makes_no_request(sandbox):
    with pytest.raises(errors.InvalidIdentifier):
        tokens.get_impersonation_token("sandbox", "../../oauth/token")
    assert grants() == 0
