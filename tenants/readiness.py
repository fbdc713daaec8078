"""When a client organization is Ready: every onboarding step's fact holds. The checklist shows the same facts.

The facts: the system user's consent is granted, someone of the client is connected to DocuSign, the account is
chosen (by the client admin, or set by ISV staff), the account's setup is in sync, and a first envelope was sent.
`readiness_refresh` records Ready (or takes it back) through one audited service. It runs where a person looks (the
checklist) and from beat (`tasks.refresh_readiness`), not in each place a fact changes: those places belong to
several modules (consent, connections, setup, envelope statuses), and one recomputation from the facts cannot be
forgotten by one of them. Beat finds the organizations to change with one query, so 10,000 organizations cost one
scan, not 10,000 checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from docusign_integration.envelopes.models.envelopes import Envelope, EnvelopeStatus
from docusign_integration.oauth.models.credentials import CredentialStatus, DocuSignCredential
from docusign_integration.setup.models import SetupStatus
from tenants import audit
from tenants.models import ClientOrganization, ConsentStatus, Hosting, OnboardingStatus
from tenants.onboarding import CHOSEN_SOURCES

# What the checklist's Send step and the sending service say while the setup step is not done (issue 14).
SETUP_FIRST = ("Set up the DocuSign account first: a client admin presses \"Set up DocuSign account\" (step 4 of the "
               "onboarding checklist). Until then the portal would not hear from DocuSign about your envelopes.")
# A setup the portal pushed, or a check found on the account, counts as done even if it drifted since (or a later
# check or push failed): drift is shown on the checklist, it does not stop sending. Choosing another account clears
# pushed_at and the status (tenants.organizations.account_choose), so a new account must be set up again.
SETUP_FOUND = (SetupStatus.IN_SYNC, SetupStatus.DRIFTED)


@dataclass(frozen=True)
class Facts:
    """What holds for one organization, step by step in the checklist's order."""

    consent: bool
    connected: bool
    account_chosen: bool
    setup_in_sync: bool
    envelope_sent: bool
    setup_done: bool = False  # set up once for this account (see SETUP_FOUND): what sending needs

    @property
    def ready(self) -> bool:
        return all((self.consent, self.connected, self.account_chosen, self.setup_in_sync, self.envelope_sent))


def _ready_condition() -> Q:
    connected = Exists(DocuSignCredential.objects.filter(organization=OuterRef("pk"), status=CredentialStatus.OK))
    sent = Exists(Envelope.objects.filter(organization=OuterRef("pk")).exclude(status=EnvelopeStatus.CREATED))
    # A hosted client's connection, account and setup are the ISV's (its account is the ISV account, set at
    # provisioning): for it, consent and a first envelope are the client's facts.
    own_steps = (Q(account_source__in=CHOSEN_SOURCES) & Q(account_setup__status=SetupStatus.IN_SYNC) & Q(connected))
    return (Q(system_user__consent_status=ConsentStatus.GRANTED) & Q(account_id__isnull=False)
            & (own_steps | Q(hosting=Hosting.HOSTED)) & Q(sent) & Q(offboarded_at__isnull=True))


def facts_of(organization: ClientOrganization) -> Facts:
    """The organization's facts in one query (the checklist and the service read the same)."""
    row = (ClientOrganization.objects.filter(pk=organization.pk).values(
        "system_user__consent_status", "account_id", "account_source", "account_setup__status",
        "account_setup__pushed_at", "hosting")
        .annotate(connected=Exists(DocuSignCredential.objects.filter(organization=OuterRef("pk"),
                                                                     status=CredentialStatus.OK)),
                  sent=Exists(Envelope.objects.filter(organization=OuterRef("pk"))
                              .exclude(status=EnvelopeStatus.CREATED))).get())
    hosted = row["hosting"] == Hosting.HOSTED  # the ISV's steps hold for a hosted client (see _ready_condition)
    return Facts(
        consent=row["system_user__consent_status"] == ConsentStatus.GRANTED,
        connected=hosted or row["connected"],
        account_chosen=bool(row["account_id"]) and (hosted or row["account_source"] in CHOSEN_SOURCES),
        setup_in_sync=hosted or row["account_setup__status"] == SetupStatus.IN_SYNC,
        envelope_sent=row["sent"],
        setup_done=hosted or row["account_setup__status"] in SETUP_FOUND or row["account_setup__pushed_at"] is not None,
    )


def to_change() -> QuerySet[ClientOrganization]:
    """Organizations whose recorded Ready disagrees with their facts (one query for beat)."""
    ready = _ready_condition()
    return ClientOrganization.objects.filter(
        (ready & ~Q(onboarding_status=OnboardingStatus.READY)) | (~ready & Q(onboarding_status=OnboardingStatus.READY)))


def readiness_refresh(*, acting_user: User | None, organization: ClientOrganization) -> ClientOrganization:
    """Record Ready when every fact holds, or take it back when one stopped holding; audited when it changes."""
    with transaction.atomic():
        locked = ClientOrganization.objects.select_for_update().get(pk=organization.pk)
        facts = facts_of(locked)
        ready = facts.ready and locked.offboarded_at is None  # as in to_change(): an offboarded client is not Ready
        was = locked.onboarding_status
        if ready and was != OnboardingStatus.READY:
            now = OnboardingStatus.READY
        elif not ready and was == OnboardingStatus.READY:
            # Back to the furthest step that still holds (the statuses before Ready are reached in this order).
            now = (OnboardingStatus.CONNECTED if facts.connected or facts.account_chosen
                   else OnboardingStatus.CONSENTED if facts.consent else OnboardingStatus.INVITED)
        else:
            return locked
        ClientOrganization.objects.filter(pk=locked.pk).update(onboarding_status=now)
        locked.onboarding_status = now
        audit.record(actor=acting_user, action="organization.ready" if ready else "organization.not_ready",
                     organization=locked, target=locked, before={"onboarding_status": was},
                     after={"onboarding_status": now, **{k: v for k, v in facts.__dict__.items() if not v}})
    organization.onboarding_status = now
    return locked
