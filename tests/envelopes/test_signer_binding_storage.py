"""How the portal records who an embedded signer is: per recipient, an identity kind and value (a portal user today,
an end user of the ISV's product by the ISV's own opaque id for the coming API), written by the service that creates
the envelope and checked by it. The migration that added the record kept every existing envelope as it was.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from docusign_integration.envelopes import sending
from docusign_integration.envelopes.sending import RecipientRequest, SignerIdentity
from docusign_integration.models import EmbeddedSigner, Envelope
from docusign_sandbox.models import Recipient as SandboxRecipient
from tenants.models import AuditEvent, MembershipRole
from tests import factories
from tests.envelopes.conftest import SIMPLE_PDF, api_requests
from tests.envelopes.test_embedded_signer_binding import RECIPIENT_VIEWS, member

APP = "docusign_integration"
BEFORE_BINDING = (APP, "0006_connect_event_indexes_for_dashboard_and_health")


def draft(acme, sender, *recipients: RecipientRequest) -> Envelope:
    return sending.envelope_create_draft(acting_user=sender, organization=acme, subject="Mutual NDA",
                                         documents=[sending.check_document("nda.pdf", SIMPLE_PDF)], recipients=recipients)


def test_each_embedded_signer_is_stored_with_its_kind_value_and_docusign_s_client_user_id(sandbox, acme):
    sender, bob = member("ana-admin", acme, MembershipRole.ADMIN), member("bob", acme)

    envelope = draft(acme, sender, RecipientRequest("Bob", bob.email, embedded_as=SignerIdentity.portal_user(bob)),
                     RecipientRequest("Eve", "eve@client.example", embedded_as=SignerIdentity.end_user("isv-user-42")),
                     RecipientRequest("Rita", "rita@client.example"))

    stored = {(b.recipient_id, b.identity_kind, b.portal_user_id, b.end_user_id, b.client_user_id)
              for b in EmbeddedSigner.objects.filter(envelope=envelope)}
    in_docusign = dict(SandboxRecipient.objects.filter(envelope__envelope_id=envelope.envelope_id)
                       .values_list("recipient_id", "client_user_id"))
    assert stored == {("1", "portal_user", bob.pk, "", in_docusign["1"]),
                      ("2", "end_user", None, "isv-user-42", in_docusign["2"])}
    assert in_docusign["1"] and in_docusign["2"] and in_docusign["1"] != in_docusign["2"] and not in_docusign["3"]
    # The ids DocuSign knows carry nothing of who the person is.
    assert all(len(value) == 32 and set(value) <= set("0123456789abcdef") for value in (in_docusign["1"], in_docusign["2"]))
    assert in_docusign["1"] not in (str(bob.pk), bob.username, bob.email) and "isv-user-42" not in in_docusign["2"]
    audit = AuditEvent.objects.get(action="envelope.create_draft")
    assert audit.after["embedded_signers"] == [{"recipient_id": "1", "kind": "portal_user", "portal_user": bob.pk},
                                               {"recipient_id": "2", "kind": "end_user", "end_user_id": "isv-user-42"}]


def test_no_portal_user_signs_for_an_end_user_of_the_isv_s_product(sandbox, acme):
    sender = member("ana-admin", acme, MembershipRole.ADMIN)
    envelope = draft(acme, sender, RecipientRequest("Eve", "eve@client.example",
                                                    embedded_as=SignerIdentity.end_user("isv-user-42")))

    with pytest.raises(sending.NotTheSigner):
        sending.signing_view_url(acting_user=sender, envelope=envelope, recipient_id="1", return_url="http://x/")
    assert api_requests(RECIPIENT_VIEWS).count() == 0


@pytest.mark.parametrize("who", ["staff", "another_organization_s_admin", "inactive_member"])
def test_the_service_refuses_an_embedded_signer_who_is_not_an_active_member(sandbox, acme, globex, who):
    sender = member("ana-admin", acme, MembershipRole.ADMIN)
    person = {"staff": lambda: factories.isv_staff("staff"),
              "another_organization_s_admin": lambda: factories.client_admin("globex-admin", globex),
              "inactive_member": lambda: member("gone", acme, is_active=False)}[who]()

    with pytest.raises(ValidationError, match="Only active members of Acme sign here in the portal"):
        draft(acme, sender, RecipientRequest("X", person.email, embedded_as=SignerIdentity.portal_user(person)))
    assert not api_requests().exists() and not Envelope.objects.exists()


@pytest.mark.parametrize("end_user_id", ["", "   ", "x" * 201])
def test_an_end_user_id_must_be_given_and_short(end_user_id):
    with pytest.raises(ValueError, match="end user id"):
        SignerIdentity.end_user(end_user_id)


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_existing_envelope_and_binds_none_of_their_signers():
    organization = factories.organization("Acme", account_id="b1f0c2a4-6d3e-4a8b-9c1d-000000000101")
    recipients = [{"recipient_id": "1", "name": "Sam", "email": "sam@client.example", "status": "sent",
                   "client_user_id": "c-1"}]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()  # every app: going back unapplies the apps that depend on this one too
    try:
        executor.migrate([BEFORE_BINDING])
        old = executor.loader.project_state([BEFORE_BINDING]).apps.get_model(APP, "Envelope")
        old.objects.create(organization_id=organization.pk, envelope_id="8e766092-a5fb-48ad-9630-5e0c6b13da1d",
                           environment="sandbox", subject="Services agreement", status="sent",
                           recipients=recipients, created_via="poll")
        rows_before = list(old.objects.values())
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)

    assert list(Envelope.objects.values(*rows_before[0])) == rows_before
    assert not EmbeddedSigner.objects.exists()
    admin = factories.client_admin("acme-admin", organization)
    client = Client()
    client.force_login(admin)
    page = client.get(f"/onboarding/{organization.slug}/envelopes/8e766092-a5fb-48ad-9630-5e0c6b13da1d/").content.decode()
    assert "Sign now" not in page and "Nobody can sign here in the portal" in page


@pytest.mark.parametrize(("kind", "with_user", "end_user_id"), [
    ("portal_user", True, "isv-user-42"),  # a portal user's binding with an end user id as well
    ("end_user", True, "isv-user-42"),  # an end user's binding naming a portal user too
    ("end_user", False, ""),  # an end user's binding without the ISV's id
])
def test_a_binding_holds_exactly_one_identity_of_its_own_kind(sandbox, acme, kind, with_user, end_user_id):
    """`SignerIdentity.is_bound_to` compares values only: the check constraint is what keeps kinds apart."""
    sender = member("ana-admin", acme, MembershipRole.ADMIN)
    envelope = draft(acme, sender, RecipientRequest("Rita", "rita@client.example"))

    with pytest.raises(IntegrityError), transaction.atomic():
        EmbeddedSigner.objects.create(envelope=envelope, recipient_id="1", client_user_id="c-1", identity_kind=kind,
                                      portal_user=sender if with_user else None, end_user_id=end_user_id)
