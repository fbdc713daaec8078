"""Dashboard fixtures: staff clients, and Connect messages posted to the real listener with the partner's HMAC key.

Messages go through `POST /docusign/connect/` exactly as DocuSign sends them (JSON SIM, signed over the raw bytes),
so ConnectEvent rows, their organization and their state are the listener's own. A message without an envelope id
is one the listener stores but quarantines: the "failed delivery" staff must look at.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.test import Client

from docusign_integration.client import http
from docusign_integration.connect.hmac import connect_hmac_key_add, signature
from docusign_integration.models import ConnectHMACKey
from tenants.models import ClientOrganization
from tests import factories

LISTENER = "/docusign/connect/"
PARTNER_SECRET = "dashboard-partner-secret-0123456789"
SENT = json.loads((Path(__file__).resolve().parent.parent / "fixtures" / "connect" / "envelope-sent.json").read_text())


def connect_message(account_id: str, *, poison: bool = False) -> tuple[bytes, dict[str, str]]:
    """A signed envelope-sent message for a new envelope of `account_id` (without an envelope id when `poison`)."""
    envelope_id = str(uuid.uuid4())
    data = {**SENT["data"], "accountId": account_id, "envelopeId": envelope_id}
    if poison:
        del data["envelopeId"]
    generated = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    body = json.dumps({**SENT, "data": data, "generatedDateTime": generated,
                       "uri": f"/restapi/v2.1/accounts/{account_id}/envelopes/{envelope_id}"}).encode()
    return body, {"X-DocuSign-AccountId": account_id, "X-Authorization-Digest": "HMACSHA256",
                  "X-DocuSign-Signature-1": signature(PARTNER_SECRET, body)}


def post_deliveries(client: Client, organization: ClientOrganization, count: int, *, poison: int = 0) -> None:
    """POST `count` messages for the organization's account to the listener, the last `poison` of them unusable."""
    for n in range(count):
        body, headers = connect_message(organization.account_id, poison=n >= count - poison)
        response = client.post(LISTENER, data=body, content_type="application/json",
                               headers={k: v for k, v in headers.items() if k != "Content-Type"})
        assert response.status_code == 200, response.status_code


@pytest.fixture
def partner_key(db) -> ConnectHMACKey:
    return connect_hmac_key_add(acting_user=None, environment="sandbox", label="Partner key", secret=PARTNER_SECRET)


@pytest.fixture
def signed_in() -> Callable[..., Client]:
    def sign_in(user) -> Client:
        client = Client()
        client.force_login(user)
        return client
    return sign_in


@pytest.fixture
def staff_client(db, signed_in) -> Client:
    return signed_in(factories.isv_staff())


@pytest.fixture
def sandbox(sandbox):
    """The root fixture, closing the portal's keep-alive connections first so no request thread outlives the server."""
    yield sandbox
    http.session.close()
