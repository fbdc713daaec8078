"""Client organizations connected to the sandbox's accounts, and envelopes made on DocuSign's side.

Organizations are provisioned and verified the way the product does it (consent granted in the sandbox, then
`consent_verify` records the account and its base_uri). Envelopes that "someone else" sent are made with the
sandbox's own models and state machine, as if a sender had used DocuSign's web app.
"""

from __future__ import annotations

import base64
from datetime import datetime

import pytest
import requests

from docusign_integration.consent.system_user import consent_verify
from docusign_sandbox import envelope_state
from docusign_sandbox.consent import grant_individual
from docusign_sandbox.models import Account, Document, Envelope, IntegrationKey, Recipient, RequestLog, User
from docusign_sandbox.seed import ACME, GLOBEX_GENERAL, INITECH, JWT_SCOPES
from tenants.models import ClientOrganization
from tests import factories

SIMPLE_PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] " \
             b"/Count 1 >>\nendobj\n3 0 obj\n<< /Type /Page /Parent 2 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
# The sandbox's seeded accounts and the user each organization's system user is (consent is granted here).
ACCOUNTS = {"acme": (ACME, "system@acme.example"), "globex": (GLOBEX_GENERAL, "multi@globex.example"),
            "initech": (INITECH, "sender@initech.example")}


def connected_organization(sandbox, key: str, *, set_up: bool = True) -> ClientOrganization:
    """A client organization on one of the sandbox's accounts, its system user consented and verified, its setup done."""
    account, email = ACCOUNTS[key]
    user = User.objects.get(email=email)
    grant_individual(user, IntegrationKey.objects.get(), set(JWT_SCOPES))
    organization = factories.organization(key.capitalize(), system_user_id=user.user_id, system_user_email=email,
                                          account_id=account.account_id)
    consent_verify(acting_user=None, organization=organization)
    if set_up:
        factories.setup_done(organization)  # the account set up, so the organization may send
    organization.refresh_from_db()
    assert organization.base_uri == sandbox.site(account.account_id) and organization.system_user.consent_status == "granted"
    return organization


def docusign_envelope(account_id: str, *, status: str = "sent", subject: str = "Service agreement",
                      embedded: bool = False, at: datetime | None = None) -> Envelope:
    """An envelope made in DocuSign by the account's first member, moved to `status` through the sandbox's states."""
    from docusign_sandbox import clock

    account = Account.objects.get(account_id=account_id)
    now = at or clock.now()
    envelope = Envelope.objects.create(account=account, sender=account.memberships.first().user, email_subject=subject,
                                       created_at=now, status_changed_at=now, last_modified_at=now)
    Document.objects.create(envelope=envelope, document_id="1", name="Agreement.pdf", content=SIMPLE_PDF)
    signer = Recipient.objects.create(envelope=envelope, recipient_id="1", email="signer@client.example",
                                      name="Sam Signer", client_user_id="c-1" if embedded else "")
    if status != "created":
        envelope_state.send(envelope)
        signer.refresh_from_db()
    if status in ("delivered", "completed"):
        envelope_state.deliver(signer)
    if status == "completed":
        envelope_state.sign(signer)
    if status == "declined":
        envelope_state.decline(signer, "Not today")
    if status == "voided":
        envelope_state.void(envelope, "Wrong document")
    envelope.refresh_from_db()
    return envelope


def api_requests(path_regex: str = r"^/restapi/", method: str | None = None):
    """The sandbox's log of eSignature requests (the OAuth server's are left out unless asked for)."""
    rows = RequestLog.objects.filter(path__regex=path_regex)
    return rows.filter(method=method) if method else rows


def add_fault(sandbox, path_pattern: str, kind: str, count: int = 1) -> None:
    response = requests.post(f"{sandbox.url}/_sandbox/faults", json={"path_pattern": path_pattern, "kind": kind,
                                                                      "count": count}, timeout=5)
    assert response.status_code == 201, response.text


def pdf_base64(content: bytes = SIMPLE_PDF) -> str:
    return base64.b64encode(content).decode()


@pytest.fixture
def acme(sandbox) -> ClientOrganization:
    return connected_organization(sandbox, "acme")


@pytest.fixture
def globex(sandbox) -> ClientOrganization:
    return connected_organization(sandbox, "globex")


@pytest.fixture
def fast_http(settings):
    """Short timeouts and back-off, so fault tests take seconds (the sandbox's `timeout` fault outlasts the read timeout)."""
    settings.DOCUSIGN_HTTP_TIMEOUT = (2.0, 0.5)
    settings.DOCUSIGN_SANDBOX_FAULT_DELAY = 1.0
    settings.DOCUSIGN_HTTP_BACKOFF_BASE = 0.01
    settings.DOCUSIGN_HTTP_BACKOFF_MAX = 0.05


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Signed documents go to a fresh storage directory per test."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"
