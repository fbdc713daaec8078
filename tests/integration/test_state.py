"""OAuth state is single-use, session- and user-bound and short-lived; PKCE is S256 (docs/security.md OA-1, OA-2)."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from docusign_integration.models import OAuthState
from docusign_integration.oauth.state import (
    StateRejected,
    code_challenge,
    consume_state,
    issue_state,
    new_code_verifier,
    peek_flow,
)

pytestmark = pytest.mark.django_db


def browser(user=None, session_key: str | None = None):
    """A request as one browser (session) and portal user would send it."""
    request = RequestFactory().get("/docusign/callback/")
    request.session = SessionStore(session_key)
    request.user = user or AnonymousUser()
    return request


@pytest.fixture
def alice():
    return User.objects.create_user("alice", password="pw-alice-1")


@pytest.fixture
def bob():
    return User.objects.create_user("bob", password="pw-bob-1")


def start(request, flow="authorization_code", verifier="CANARY-verifier-" + "v" * 40):
    return issue_state(request, flow=flow, environment="sandbox", organization_id=7, payload={"next": "/onboarding/"},
                       code_verifier=verifier)


def test_the_callback_in_the_same_session_gets_back_what_the_start_stored(alice):
    request = browser(alice)
    state = start(request)
    record = consume_state(browser(alice, request.session.session_key), state, flow="authorization_code")
    assert (record.flow, record.environment, record.organization_id, record.user_id) == (
        "authorization_code", "sandbox", 7, alice.pk)
    assert record.payload == {"next": "/onboarding/"}
    assert record.code_verifier == "CANARY-verifier-" + "v" * 40


def test_a_fresh_anonymous_session_is_created_and_marked_for_its_cookie():
    request = browser()
    state = start(request)
    assert request.session.session_key and request.session.modified
    assert consume_state(browser(session_key=request.session.session_key), state, flow="authorization_code").user_id is None


def test_only_hashes_and_ciphertexts_are_stored(alice):
    request = browser(alice)
    state = start(request)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM docusign_integration_oauthstate")
        dump = repr(cursor.fetchall())
    assert state not in dump and "CANARY" not in dump and request.session.session_key not in dump


def rejected(request, state, flow="authorization_code") -> str:
    with pytest.raises(StateRejected) as caught:
        consume_state(request, state, flow=flow)
    return caught.value.reason


def test_another_session_cannot_use_the_state_and_the_owner_still_can(alice):
    owner = browser(alice)
    state = start(owner)
    other = browser(alice)
    other.session.save()
    assert rejected(other, state) == "other_session"
    assert consume_state(browser(alice, owner.session.session_key), state, flow="authorization_code").organization_id == 7


def test_another_user_in_the_same_session_is_refused(alice, bob):
    owner = browser(alice)
    state = start(owner)
    assert rejected(browser(bob, owner.session.session_key), state) == "other_user"
    assert rejected(browser(None, owner.session.session_key), state) == "other_user"


def test_a_replay_after_success_is_refused(alice):
    owner = browser(alice)
    state = start(owner)
    consume_state(browser(alice, owner.session.session_key), state, flow="authorization_code")
    assert rejected(browser(alice, owner.session.session_key), state) == "reused"


def test_a_state_is_dead_ten_minutes_and_one_second_later(alice, monkeypatch):
    owner = browser(alice)
    state = start(owner)
    later = timezone.now() + timedelta(minutes=10, seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert peek_flow(state) is None
    assert rejected(browser(alice, owner.session.session_key), state) == "expired"


@pytest.mark.parametrize("mutate", [lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"), lambda s: s + "x", lambda s: s[1:],
                                    lambda s: "x" * 5000])
def test_a_tampered_state_is_unknown(alice, mutate):
    owner = browser(alice)
    state = start(owner)
    assert rejected(browser(alice, owner.session.session_key), mutate(state)) == "unknown"


@pytest.mark.parametrize("value", [None, "", ["list"]])
def test_a_missing_state_is_refused(alice, value):
    assert rejected(browser(alice), value) == "missing"


def test_a_state_for_another_flow_is_refused(alice):
    owner = browser(alice)
    state = start(owner, flow="consent_individual")
    assert rejected(browser(alice, owner.session.session_key), state, flow="authorization_code") == "wrong_flow"


def test_peek_flow_routes_without_using_the_state(alice):
    owner = browser(alice)
    state = start(owner, flow="consent_admin")
    assert peek_flow(state) == "consent_admin"
    assert peek_flow(state) == "consent_admin"
    assert peek_flow("not-a-state") is None and peek_flow(None) is None
    consume_state(browser(alice, owner.session.session_key), state, flow="consent_admin")
    assert peek_flow(state) is None


def test_a_rejection_is_logged_without_the_state_value(alice, caplog):
    owner = browser(alice)
    state = start(owner)
    caplog.set_level(logging.DEBUG)
    rejected(browser(alice), state)
    assert "oauth_state_rejected reason=other_session" in caplog.text
    assert state not in caplog.text and "CANARY" not in caplog.text


def test_expired_records_are_purged_a_day_later(alice, monkeypatch):
    start(browser(alice))
    later = timezone.now() + timedelta(days=1, minutes=11)
    monkeypatch.setattr(timezone, "now", lambda: later)
    start(browser(alice))
    assert OAuthState.objects.count() == 1


def test_pkce_matches_the_rfc_7636_known_answer():
    assert code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_code_verifiers_are_unique_and_in_the_rfc_alphabet():
    verifiers = {new_code_verifier() for _ in range(2000)}
    assert len(verifiers) == 2000
    assert all(re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", v) for v in verifiers)
