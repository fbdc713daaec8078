"""The soak's world and traffic, run inside the orchestrator's Django (same settings and database as the stack).

World: three client organizations on the seeded sandbox accounts, their system users (account admins) consenting in
the sandbox, consent verified by a real JWT grant, Connect set up in each account by `account_setup_push` (the
listener URL is PORTAL_BASE_URL, the relay), and the sandbox partner account's HMAC keys imported as partner keys.

Traffic: envelopes sent through the eSignature REST API as the system users and moved along DocuSign's lifecycle by
their recipients (the sandbox's control API) or voided by the sender, many envelopes in flight at once, until the
planned number of Connect messages has been published.
"""

from __future__ import annotations

import base64
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests
from django.conf import settings
from django.db import close_old_connections

from docusign_integration.client import errors
from docusign_integration.client.http import Answer, json_or_raise
from docusign_integration.client.rest import rest_call
from docusign_integration.connect.hmac import connect_hmac_key_add
from docusign_integration.consent.system_user import consent_verify
from docusign_integration.envelopes.sending import SendingIdentity, system_user_identity
from docusign_integration.setup.account_setup import account_setup_push
from docusign_sandbox.consent import grant_individual
from docusign_sandbox.models import IntegrationKey
from docusign_sandbox.models import User as SandboxUser
from docusign_sandbox.seed import ACME, GLOBEX_GENERAL, GLOBEX_HR, JWT_SCOPES, partner_hmac_keys
from tenants import services
from tenants.models import ClientOrganization, ConsentStatus

# (name, sandbox account, its administrator who serves as the organization's system user)
ORGANIZATIONS = (("Acme Corp", ACME, "admin@acme.example"), ("Globex HR", GLOBEX_HR, "multi@globex.example"),
                 ("Globex General", GLOBEX_GENERAL, "multi@globex.example"))
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# Paths an envelope takes, weighted as a busy account's mix: most complete, some decline, void or wait.
PATHS = ("complete",) * 5 + ("decline", "void", "void-after-delivery", "stay-sent", "stay-delivered")
IN_FLIGHT_PER_THREAD = 4


def build_world(sandbox_url: str) -> list[ClientOrganization]:
    """Consent, organizations, Connect configurations and partner keys; returns the organizations, ready to sync."""
    key = IntegrationKey.objects.get(client_id=settings.DOCUSIGN_INTEGRATION_KEY)
    organizations = []
    for name, account, email in ORGANIZATIONS:
        system_user = SandboxUser.objects.get(email=email)
        grant_individual(system_user, key, JWT_SCOPES)  # what the admin's click on the consent page stores
        organization = services.organization_provision(
            acting_user=None, name=name, environment="sandbox", system_user_id=system_user.user_id,
            system_user_email=email, account_id=account.account_id)
        consent_verify(acting_user=None, organization=organization)
        organization.refresh_from_db()
        if organization.system_user.consent_status != ConsentStatus.GRANTED or not organization.base_uri:
            raise SystemExit(f"consent for {name} not verified: {organization.system_user.last_error}")
        account_setup_push(acting_user=None, organization=organization)
        organizations.append(organization)
    for k in partner_hmac_keys(key.partner_account):
        connect_hmac_key_add(acting_user=None, environment="sandbox", label=f"Sandbox partner key {k['key_id'][:8]}",
                             secret=k["secret"], key_id=k["key_id"])
    # DocuSign's limits are per hour; the soak compresses a busy day into minutes, so the hourly budget is raised.
    requests.post(f"{sandbox_url}/_sandbox/rate-limit", json={"hourly_limit": 1_000_000, "burst_limit": 5_000},
                  timeout=10).raise_for_status()
    return organizations


@dataclass
class EnvelopePlan:
    """One envelope's life: whose it is, how many signers, the steps after sending, and the messages they publish."""

    organization: ClientOrganization
    signers: int
    steps: list[tuple[str, str]]  # (action, recipient id): deliver, sign, decline, or ("void", "")
    messages: int = 0
    envelope_id: str = ""


def published_messages(steps: list[tuple[str, str]]) -> int:
    """Connect messages an envelope publishes: 2 on sending, 2 per step, 1 for a void or a second recipient's opening."""
    count, delivered = 2, False
    for action, _ in steps:
        count += 1 if action == "void" or (action == "deliver" and delivered) else 2
        delivered = delivered or action == "deliver"
    return count


def _steps(path: str, signers: int) -> list[tuple[str, str]]:
    if path == "complete":
        return [(action, str(n)) for n in range(1, signers + 1) for action in ("deliver", "sign")]
    return {"decline": [("deliver", "1"), ("decline", "1")], "void": [("void", "")],
            "void-after-delivery": [("deliver", "1"), ("void", "")], "stay-sent": [],
            "stay-delivered": [("deliver", "1")]}[path]


def plan_traffic(organizations: list[ClientOrganization], messages: int, rng: random.Random) -> list[EnvelopePlan]:
    """Envelopes enough for about `messages` Connect messages (before the sandbox drops its share)."""
    plans: list[EnvelopePlan] = []
    total = 0
    while total < messages:
        signers = rng.choice((1, 1, 2))
        steps = _steps(rng.choice(PATHS), signers)
        plans.append(EnvelopePlan(rng.choice(organizations), signers, steps, published_messages(steps)))
        total += plans[-1].messages
    return plans


@dataclass
class Driver:
    """Runs the plans from a few threads, several envelopes in flight per thread, steps interleaved at random."""

    sandbox_urls: list[str]  # recipients act on any sandbox process; each publishes what it changed
    threads: int = 6
    done_messages: int = 0
    failures: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _identities: dict[int, SendingIdentity] = field(default_factory=dict)

    def run(self, plans: list[EnvelopePlan], seed: int, progress: Callable[[int], None] | None = None) -> None:
        for plan in plans:
            if plan.organization.pk not in self._identities:
                self._identities[plan.organization.pk] = system_user_identity(plan.organization)
        chunks = [plans[n::self.threads] for n in range(self.threads)]
        with ThreadPoolExecutor(self.threads) as pool:
            for future in [pool.submit(self._run_chunk, chunk, random.Random(seed + n), progress)
                           for n, chunk in enumerate(chunks)]:
                future.result()

    def _run_chunk(self, plans: list[EnvelopePlan], rng: random.Random, progress: Callable[[int], None] | None) -> None:
        session = requests.Session()
        waiting = list(reversed(plans))
        active: list[EnvelopePlan] = []
        try:
            while waiting or active:
                while waiting and len(active) < IN_FLIGHT_PER_THREAD:
                    plan = waiting.pop()
                    self._send(plan)
                    active.append(plan)
                plan = rng.choice(active)
                if plan.steps:
                    action, recipient = plan.steps.pop(0)
                    self._step(session, plan, action, recipient)
                if not plan.steps:
                    active.remove(plan)
                    with self._lock:
                        self.done_messages += plan.messages
                    if progress:
                        progress(self.done_messages)
        finally:
            close_old_connections()

    def _send(self, plan: EnvelopePlan) -> None:
        """POST /envelopes with status "sent" as the organization's system user."""
        identity = self._identities[plan.organization.pk]
        definition = {
            "emailSubject": f"Soak agreement {random.randint(1, 10**9)}", "status": "sent",
            "documents": [{"documentId": "1", "name": "Agreement.pdf", "fileExtension": "pdf",
                           "documentBase64": base64.b64encode(PDF).decode()}],
            "recipients": {"signers": [{"recipientId": str(n), "routingOrder": str(n), "name": f"Signer {n}",
                                        "email": f"signer{n}@example.com"} for n in range(1, plan.signers + 1)]},
        }
        response = self._with_retries(lambda: identity.call(
            lambda bearer: rest_call(identity.ref, "POST", "/envelopes", bearer=bearer, json=definition)))
        plan.envelope_id = json_or_raise(response)["envelopeId"]

    def _step(self, session: requests.Session, plan: EnvelopePlan, action: str, recipient: str) -> None:
        if action == "void":
            identity = self._identities[plan.organization.pk]
            self._with_retries(lambda: identity.call(lambda bearer: rest_call(
                identity.ref, "PUT", f"/envelopes/{plan.envelope_id}", bearer=bearer,
                json={"status": "voided", "voidedReason": "Replaced by a new version"})))
            return
        url = f"{random.choice(self.sandbox_urls)}/_sandbox/recipients/{plan.envelope_id}/{recipient}/{action}"
        response = session.post(url, json={"reason": "Not what we agreed"} if action == "decline" else {}, timeout=60)
        if response.status_code != 200:
            with self._lock:
                self.failures.append(f"{action} {plan.envelope_id}/{recipient}: {response.status_code} {response.text[:200]}")

    @staticmethod
    def _with_retries(call: Callable[[], Answer]) -> Answer:
        """A REST call, again after a transient error (the client's own retries already ran); at most five tries."""
        for attempt in range(5):
            try:
                return call()
            except errors.DocuSignError as exc:
                if not exc.retryable or attempt == 4:
                    raise
                time.sleep(1 + attempt)
        raise AssertionError("unreachable")
