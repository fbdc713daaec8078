"""Benchmark: DocuSign calls per status sweep, the portal's list-based sweep versus polling each envelope.

Runs the DocuSign sandbox in-process on a loopback port with a throwaway SQLite file, connects 3 client organizations
(the sandbox's consentable accounts) with `--envelopes` envelopes each, runs the real sweep (`envelopes_sweep`) once
to catch up, changes `--changed` percent of the envelopes in DocuSign, moves DocuSign's clock 20 minutes, and sweeps
again, counting every request at the choke point's session. The naive design is run for real on one organization: a new JWT
grant and a GET /envelopes/{id} for every envelope. The per-organization counts are then scaled to `--orgs` organizations
(each organization is its own DocuSign account, so they add up).

Then the ISV-owned account (issue 18): `--hosted` hosted clients in the one partner account, each with its own system
user and `--envelopes` envelopes carrying its custom field (made in bulk in both databases, as provisioning and
sending would leave them, without calling DocuSign 100,000 times); the portal is caught up (watermark), `--changed`
percent change, and the real account-wide sweep (`isv_account_sweep`) runs once, counted at the choke point. Every
call counts against the one account's hourly limit, so its last line compares the calls per hour (a sweep every 15
minutes, as beat runs it, plus the admin's hourly JWT grant) with DocuSign's default 3,000.

    .venv/bin/python bench/sync.py [--orgs 1000] [--envelopes 100] [--changed 5] [--hosted 1000]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from benchlib import setup_django, start_sandbox  # bench/ is on sys.path when a script here runs

ACCOUNT_USERS = ("system@acme.example", "multi@globex.example", "sender@initech.example")
ACCOUNT_NAMES = ("Acme Corp", "Globex General", "Initech")
GRANTS_PER_SWEEP = 1 / 3  # a cached JWT token lives an hour; sweeps run every 20 minutes
HOURLY_LIMIT = 3000  # DocuSign's default API calls per account per hour (docs/docusign.md §9)
ISV_SWEEPS_PER_HOUR = 4  # beat's docusign-sweep-isv-accounts: every 15 minutes


def _start_sandbox(tmp: Path) -> str:
    from django.conf import settings

    settings.MEDIA_ROOT = str(tmp / "media")
    thread, _ = start_sandbox(tmp)
    return thread.url


def _organizations() -> list:
    """The 3 client organizations, each on its own sandbox account, consent granted and verified as in production."""
    from docusign_integration.consent.system_user import consent_verify
    from docusign_sandbox.consent import grant_individual
    from docusign_sandbox.models import Account, IntegrationKey, User
    from docusign_sandbox.seed import JWT_SCOPES
    from tenants import services

    organizations = []
    for email, account_name in zip(ACCOUNT_USERS, ACCOUNT_NAMES, strict=True):
        user = User.objects.get(email=email)
        grant_individual(user, IntegrationKey.objects.get(), set(JWT_SCOPES))
        organization = services.organization_provision(
            acting_user=None, name=account_name, environment="sandbox", system_user_id=user.user_id,
            system_user_email=email, account_id=Account.objects.get(name=account_name).account_id)
        consent_verify(acting_user=None, organization=organization)
        organization.refresh_from_db()
        organizations.append(organization)
    return organizations


def _envelopes(organizations: list, per_org: int) -> list:
    """`per_org` sent envelopes in each organization's DocuSign account (made in the sandbox directly, in bulk)."""
    from docusign_sandbox import clock
    from docusign_sandbox.models import Account, Envelope, Recipient

    now = clock.now()
    for organization in organizations:
        account = Account.objects.get(account_id=organization.account_id)
        sender = account.memberships.first().user
        Envelope.objects.bulk_create([Envelope(account=account, sender=sender, email_subject=f"Agreement {n}", status="sent",
                                               created_at=now, sent_at=now, status_changed_at=now, last_modified_at=now)
                                      for n in range(per_org)])
    envelopes = list(Envelope.objects.filter(email_subject__startswith="Agreement ").select_related("account"))
    Recipient.objects.bulk_create([Recipient(envelope=e, recipient_id="1", email=f"s{e.pk}@client.example", name="Signer",
                                             status="sent", sent_at=now) for e in envelopes])
    return envelopes


class CallCounter:
    """Counts requests at the choke point's session: JWT grants and eSignature calls."""

    def __init__(self) -> None:
        self.grants = self.rest = 0

    def __call__(self, response, *args, **kwargs) -> None:
        if response.request.path_url.startswith("/oauth/token"):
            self.grants += 1
        elif response.request.path_url.startswith("/restapi/"):
            self.rest += 1

    @property
    def total(self) -> int:
        return self.grants + self.rest


def _counted(run) -> tuple[CallCounter, float]:
    from docusign_integration.client import http

    counter = CallCounter()
    http.session.hooks["response"] = [counter]
    started = time.perf_counter()
    try:
        run()
    finally:
        http.session.hooks["response"] = []
    return counter, time.perf_counter() - started


def _naive_poll(organization, envelope_ids: list[str]) -> None:
    """The design this replaces: per envelope, a new JWT grant, then GET /envelopes/{id}."""
    from docusign_integration.client import http, rest
    from docusign_integration.envelopes import sending
    from docusign_integration.oauth import account_server as oauth

    ref = sending.account_ref(organization)
    user_id = organization.system_user.user_id
    for envelope_id in envelope_ids:
        bearer = oauth.jwt_grant(organization.environment, user_id).access_token
        http.json_or_raise(rest.rest_call(ref, "GET", f"/envelopes/{envelope_id}", bearer=bearer))


def _hosted_world(clients: int, per_client: int) -> list:
    """The ISV account with `clients` hosted clients, each with its system user and `per_client` sent envelopes."""
    from docusign_integration.client.custom_fields import HOSTED_CLIENT_FIELD
    from docusign_sandbox import clock
    from docusign_sandbox.consent import grant_organization
    from docusign_sandbox.models import (
        Account,
        Envelope,
        EnvelopeCustomField,
        IntegrationKey,
        Membership,
        Organization,
        Recipient,
        User,
    )
    from docusign_sandbox.seed import ISV_ORG_ID, JWT_SCOPES, PARTNER
    from tenants.isv import isv_account_record
    from tenants.models import ClientOrganization, ConsentStatus, Hosting, SystemUser

    admin = User.objects.get(email="staff@isv.example")
    grant_organization(Organization.objects.get(organization_id=ISV_ORG_ID), IntegrationKey.objects.get(),
                       set(JWT_SCOPES), granted_by=admin)  # the ISV's one organization admin consent
    partner = Account.objects.get(account_id=PARTNER.account_id)
    isv = isv_account_record(acting_user=None, environment="sandbox", account_id=partner.account_id,
                             base_uri=partner.base_uri, admin_user_id=admin.user_id)
    slugs = [f"hosted-{n:05d}" for n in range(clients)]
    users = User.objects.bulk_create([User(email=isv.system_user_email(slug), name=slug, password="!") for slug in slugs])
    Membership.objects.bulk_create([Membership(user=u, account=partner, permission_profile=isv.permission_profile_name)
                                    for u in users])
    organizations = ClientOrganization.objects.bulk_create([
        ClientOrganization(name=slug, slug=slug, hosting=Hosting.HOSTED, account_id=isv.account_id, base_uri=isv.base_uri)
        for slug in slugs])
    SystemUser.objects.bulk_create([SystemUser(organization=o, user_id=u.user_id, email=u.email,
                                               consent_status=ConsentStatus.GRANTED)
                                    for o, u in zip(organizations, users, strict=True)])
    now = clock.now()
    envelopes = Envelope.objects.bulk_create([
        Envelope(account=partner, sender=u, email_subject=f"Hosted {n}", status="sent", created_at=now, sent_at=now,
                 status_changed_at=now, last_modified_at=now) for u in users for n in range(per_client)], batch_size=2000)
    envelopes = list(Envelope.objects.filter(email_subject__startswith="Hosted ").select_related("sender"))
    slug_of = {u.pk: slug for u, slug in zip(users, slugs, strict=True)}
    EnvelopeCustomField.objects.bulk_create([
        EnvelopeCustomField(envelope=e, field_id="1", name=HOSTED_CLIENT_FIELD, value=slug_of[e.sender_id], show=False)
        for e in envelopes], batch_size=2000)
    Recipient.objects.bulk_create([Recipient(envelope=e, recipient_id="1", email=f"h{e.pk}@client.example", name="Signer",
                                             status="sent", sent_at=now) for e in envelopes], batch_size=2000)
    return envelopes


def _hosted_sweep(options: argparse.Namespace, advance) -> tuple[CallCounter, object, int]:
    """Catch the portal up (the watermark), change `--changed` percent, and count one account-wide sweep."""
    from docusign_integration.hosting.sweep import isv_account_sweep
    from docusign_sandbox import clock, envelope_state
    from tenants.models import ISVAccount

    envelopes = _hosted_world(options.hosted, options.envelopes)
    advance(60)
    ISVAccount.objects.update(sweep_watermark=clock.now())  # caught up: the steady state is what is measured
    changed = round(len(envelopes) * options.changed / 100)
    for envelope in random.Random(2).sample(envelopes, changed):
        envelope_state.deliver(envelope.recipients.get())
    advance(15)
    results = []
    counter, _ = _counted(lambda: results.append(isv_account_sweep("sandbox", now=clock.now())))
    return counter, results[0], changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=1000, help="organizations to scale to")
    parser.add_argument("--envelopes", type=int, default=100, help="open envelopes per organization")
    parser.add_argument("--changed", type=float, default=5.0, help="percent of envelopes changed between sweeps")
    parser.add_argument("--hosted", type=int, default=1000, help="hosted clients in the one ISV account")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        setup_django(Path(tmp))
        _start_sandbox(Path(tmp))
        import requests
        from django.conf import settings

        from docusign_integration.envelopes.sync import envelopes_sweep
        from docusign_sandbox import clock, envelope_state

        def advance(minutes: int) -> None:
            requests.post(f"{settings.DOCUSIGN_SANDBOX_URL}/_sandbox/clock", json={"advance_seconds": minutes * 60},
                          timeout=5).raise_for_status()

        # DocuSign's clock starts in the past and moves forward; the portal's own clock (JWT iat/exp) stays real.
        advance(-120)
        organizations = _organizations()
        envelopes = _envelopes(organizations, options.envelopes)
        advance(60)  # the envelopes were sent an hour ago
        for organization in organizations:  # catch up once: the steady state is what is measured
            envelopes_sweep(organization, now=clock.now())

        rng = random.Random(1)
        for envelope in rng.sample(envelopes, round(len(envelopes) * options.changed / 100)):
            envelope_state.deliver(envelope.recipients.get())
        advance(20)  # the next sweep, 20 minutes later (DocuSign's advice)

        results = []
        ours, sweep_s = _counted(lambda: results.extend(envelopes_sweep(o, now=clock.now()) for o in organizations))
        by_account: dict[str, list[str]] = {}
        for envelope in envelopes:
            by_account.setdefault(envelope.account.account_id, []).append(envelope.envelope_id)
        # One organization is enough to measure the naive design's per-organization cost (it is 2 calls per envelope).
        naive, naive_s = _counted(lambda: _naive_poll(organizations[0], by_account[organizations[0].account_id]))
        hosted, hosted_result, hosted_changed = _hosted_sweep(options, advance)

    measured = len(organizations)
    # A JWT grant per organization per hour is shared by the three 20-minute sweeps of that hour.
    per_org_ours, per_org_naive = ours.total / measured + GRANTS_PER_SWEEP, naive.total
    calls_ours, calls_naive = round(per_org_ours * options.orgs), round(per_org_naive * options.orgs)
    changes = sum(r.changes for r in results)
    print(f"measured on {measured} organizations x {options.envelopes} envelopes, {changes} changed since the last sweep:")
    print(f"  ours:  {ours.rest} list calls + {ours.grants} JWT grants (+1/3 grant amortized) = {per_org_ours:.2f} calls "
          "per organization, "
          f"sweep wall time {sweep_s:.3f} s ({sweep_s / measured * 1000:.1f} ms per organization)")
    print(f"  naive (1 organization): {naive.rest} GET envelope + {naive.grants} JWT grants = {per_org_naive:.0f} calls, "
          f"{naive_s:.3f} s")
    print(f"scaled to {options.orgs} organizations: ours {calls_ours} calls, naive {calls_naive} calls; "
          f"one worker would sweep them all in about {sweep_s / measured * options.orgs:.0f} s")
    print(f"calls_ours={calls_ours} calls_naive={calls_naive} ratio={calls_naive / max(calls_ours, 1):.1f} sweep_s={sweep_s:.3f}")
    # The ISV account: one listing for every hosted client; the admin's JWT grant is shared by the hour's sweeps.
    hosted_per_sweep = hosted.rest + 1 / ISV_SWEEPS_PER_HOUR
    hosted_per_hour = hosted.rest * ISV_SWEEPS_PER_HOUR + 1
    per_user_per_hour = options.hosted * (3 + 1)  # per system user: 3 list calls (20-minute sweeps) + 1 JWT grant
    print(f"ISV account, {options.hosted} hosted clients x {options.envelopes} envelopes, {hosted_changed} changed: one "
          f"account-wide sweep read {hosted_result.envelopes} envelopes in {hosted.rest} list calls "
          f"({hosted.grants} JWT grant), applied {hosted_result.changes}, unroutable {hosted_result.unroutable}; "
          f"a sweep per system user would need at least {per_user_per_hour} calls an hour")
    print(f"hosted_calls_per_sweep={hosted_per_sweep:.2f} hosted_calls_per_hour={hosted_per_hour} hourly_limit={HOURLY_LIMIT}")


if __name__ == "__main__":
    main()
