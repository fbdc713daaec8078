"""Connect listener fixtures: Acme's client organization, a partner HMAC key, and signed deliveries of real payloads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client, TestCase

from docusign_integration.connect.hmac import connect_hmac_key_add, forget_cached_keys, signature
from docusign_integration.envelopes import status as envelope_status
from docusign_integration.models import ConnectHMACKey
from docusign_sandbox.seed import ACME
from tenants.models import ClientOrganization
from tests import factories

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "connect"
PARTNER_SECRET = "partner-secret-0123456789abcdef"
URL = "/docusign/connect/"


def fixture_body(name: str) -> bytes:
    """The exact bytes the sandbox sent for a captured message (tests/fixtures/connect/<name>.json)."""
    return (FIXTURES / f"{name}.json").read_bytes()


def signed_headers(body: bytes, *secrets: str, account_id: str = ACME.account_id) -> dict[str, str]:
    """Connect's headers for `body`: one X-DocuSign-Signature-N per secret (as the test client's extra kwargs)."""
    headers = {"HTTP_X_DOCUSIGN_ACCOUNTID": account_id, "HTTP_X_AUTHORIZATION_DIGEST": "HMACSHA256"}
    for n, secret in enumerate(secrets, start=1):
        headers[f"HTTP_X_DOCUSIGN_SIGNATURE_{n}"] = signature(secret, body)
    return headers


@dataclass
class Deliverer:
    client: Client

    def post(self, body: bytes, headers: dict[str, str]):
        # The test's transaction never commits: run what the listener queued on commit, as a real commit would.
        with TestCase.captureOnCommitCallbacks(execute=True):
            return self.client.post(URL, data=body, content_type="application/json", **headers)

    def signed(self, body: bytes, *secrets: str, account_id: str = ACME.account_id):
        return self.post(body, signed_headers(body, *(secrets or (PARTNER_SECRET,)), account_id=account_id))


@pytest.fixture(autouse=True)
def no_remembered_keys(settings) -> None:
    """Each test's keys and organizations are new: the listener must not remember another test's."""
    settings.DOCUSIGN_CONNECT_KEY_CACHE_SECONDS = 0
    forget_cached_keys()


@pytest.fixture(autouse=True)
def completed_envelopes(monkeypatch) -> list[str]:
    """The envelopes whose completion reached `envelope_completed`; the downloads it queues are not under test here."""
    seen: list[str] = []
    monkeypatch.setattr(envelope_status, "envelope_completed", lambda envelope: seen.append(envelope.envelope_id))
    return seen


@pytest.fixture
def acme_organization(db) -> ClientOrganization:
    return factories.organization("Acme Corp", account_id=ACME.account_id)


@pytest.fixture
def partner_key(db) -> ConnectHMACKey:
    return connect_hmac_key_add(acting_user=None, environment="sandbox", label="Partner key 1", secret=PARTNER_SECRET)


@pytest.fixture
def deliver(client, eager_celery) -> Deliverer:
    return Deliverer(client)


def with_payload(body: bytes, **changes) -> bytes:
    """The message re-serialized with top-level fields changed (a different body: it needs a new signature)."""
    return json.dumps({**json.loads(body), **changes}).encode()
