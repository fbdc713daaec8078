"""Product rule: an embedded signer's view is issued only to the portal user bound to that signer when the envelope
was created. Anyone else (another member, the sender, client admins, ISV staff and superusers) gets 404, and
DocuSign is not asked for a view: the sandbox's request log shows no `views/recipient` call.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AbstractUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from docusign_integration.envelopes.sync import envelopes_sweep
from docusign_integration.models import Envelope
from docusign_sandbox import envelope_state
from docusign_sandbox.models import Envelope as SandboxEnvelope
from docusign_sandbox.models import ViewToken
from tenants.models import ClientMembership, ClientOrganization, MembershipRole
from tests import factories
from tests.envelopes.conftest import SIMPLE_PDF, api_requests, docusign_envelope

RECIPIENT_VIEWS = r"^/restapi/.*/views/recipient$"


def signed_in(user: AbstractUser) -> Client:
    client = Client()
    client.force_login(user)
    return client


def member(username: str, organization: ClientOrganization, role: str = MembershipRole.MEMBER,
           **fields) -> AbstractUser:
    person = factories.user(username, **fields)
    ClientMembership.objects.create(user=person, organization=organization, role=role)
    return person


def sending_form(organization: ClientOrganization, *signers: dict[str, str]) -> tuple[str, dict]:
    """The sending form's URL and fields: each signer's name, email and `embedded` (the member who signs here)."""
    data = {"subject": "Mutual NDA", "document": SimpleUploadedFile("nda.pdf", SIMPLE_PDF),
            "recipient-TOTAL_FORMS": str(len(signers)), "recipient-INITIAL_FORMS": "0"}
    for number, signer in enumerate(signers):
        data.update({f"recipient-{number}-{key}": value for key, value in signer.items()})
    return f"/onboarding/{organization.slug}/envelopes/new/", data


def embedded(person: AbstractUser) -> dict[str, str]:
    return {"name": person.username, "email": person.email, "embedded": str(person.pk)}


def send_from_the_portal(sender: AbstractUser, organization: ClientOrganization, *signers: dict[str, str]) -> Envelope:
    """The sender fills in the sending form, then sends the draft in DocuSign; the portal learns it by polling."""
    url, data = sending_form(organization, *signers)
    response = signed_in(sender).post(url, data)
    assert response.status_code == 302 and "/signing/" in response["Location"], response.content.decode()[-2000:]
    in_docusign = SandboxEnvelope.objects.get(email_subject="Mutual NDA")
    envelope_state.send(in_docusign)  # what the sender view's Send button does
    envelopes_sweep(organization)
    envelope = Envelope.objects.get(envelope_id=in_docusign.envelope_id)
    assert envelope.status == "sent"
    return envelope


def sign_url(envelope: Envelope, recipient_id: str = "1") -> str:
    return f"/onboarding/{envelope.organization.slug}/envelopes/{envelope.envelope_id}/sign/{recipient_id}/"


def detail_url(envelope: Envelope) -> str:
    return f"/onboarding/{envelope.organization.slug}/envelopes/{envelope.envelope_id}/"


@pytest.fixture
def people(acme) -> dict[str, AbstractUser]:
    """Everyone who can open Acme's envelope pages, and ISV staff who cannot."""
    return {
        "sender": member("ana-admin", acme, MembershipRole.ADMIN),
        "signer": member("bob", acme),
        "other_member": member("carol", acme),
        "another_client_admin": member("dora-admin", acme, MembershipRole.ADMIN),
        "staff_member": member("isv-staff", acme, is_staff=True),
        "superuser_member": member("root", acme, is_staff=True, is_superuser=True),
        "staff": factories.isv_staff("staff-only"),
        "superuser": factories.user("root-only", is_staff=True, is_superuser=True),
    }


@pytest.fixture
def bound_envelope(sandbox, acme, people) -> Envelope:
    """Sent by Ana (a client admin) with Bob, a member, as its embedded signer."""
    return send_from_the_portal(people["sender"], acme, embedded(people["signer"]))


def test_the_bound_member_gets_docusign_s_signing_view_for_their_own_recipient(bound_envelope, people):
    response = signed_in(people["signer"]).post(sign_url(bound_envelope))

    assert response.status_code == 302 and "/signing/" in response["Location"]
    assert api_requests(RECIPIENT_VIEWS).count() == 1
    view = ViewToken.objects.get(kind="recipient")
    assert (view.envelope.envelope_id, view.recipient.recipient_id, view.recipient.email) == (
        bound_envelope.envelope_id, "1", people["signer"].email)


@pytest.mark.parametrize("persona", ["sender", "other_member", "another_client_admin", "staff_member",
                                     "superuser_member", "staff", "superuser"])
def test_anyone_else_gets_404_and_docusign_is_not_asked_for_a_view(bound_envelope, people, persona):
    response = signed_in(people[persona]).post(sign_url(bound_envelope))

    assert response.status_code == 404
    assert api_requests(RECIPIENT_VIEWS).count() == 0
    assert not ViewToken.objects.filter(kind="recipient").exists()


def test_another_recipient_id_of_the_same_envelope_is_404_for_the_bound_member_too(sandbox, acme, people):
    """Bob is bound to recipient 1 only; recipient 2 (Carol's, embedded) and 3 (a remote signer) are not his."""
    envelope = send_from_the_portal(people["sender"], acme, embedded(people["signer"]), embedded(people["other_member"]),
                                    {"name": "Remote Rita", "email": "rita@client.example", "embedded": ""})
    bob = signed_in(people["signer"])

    for recipient_id in ("2", "3", "4", "not-a-recipient"):
        assert bob.post(sign_url(envelope, recipient_id)).status_code == 404, recipient_id
    assert api_requests(RECIPIENT_VIEWS).count() == 0
    assert signed_in(people["other_member"]).post(sign_url(envelope, "2")).status_code == 302
    assert api_requests(RECIPIENT_VIEWS).count() == 1


@pytest.mark.parametrize("persona", ["signer", "sender", "other_member", "another_client_admin", "staff_member",
                                     "superuser_member"])
def test_the_envelope_page_offers_sign_now_only_to_the_bound_member(bound_envelope, people, persona):
    page = signed_in(people[persona]).get(detail_url(bound_envelope))

    html = page.content.decode()
    assert page.status_code == 200
    offered = "Sign now" in html or sign_url(bound_envelope) in html
    assert offered == (persona == "signer"), html[html.find('id="recipients"'):][:1500]
    if persona != "signer":
        assert "Signs here in the portal as bob" in html  # who will sign, so nobody wonders where the button went


def test_the_sender_can_name_themself_as_the_embedded_signer(sandbox, acme, people):
    envelope = send_from_the_portal(people["sender"], acme, embedded(people["sender"]))

    assert signed_in(people["other_member"]).post(sign_url(envelope)).status_code == 404
    assert signed_in(people["sender"]).post(sign_url(envelope)).status_code == 302
    assert api_requests(RECIPIENT_VIEWS).count() == 1


def test_an_embedded_signer_s_name_and_email_come_from_their_portal_account(sandbox, acme, people):
    people["signer"].first_name, people["signer"].last_name = "Bob", "Builder"
    people["signer"].save()

    envelope = send_from_the_portal(people["sender"], acme, {"name": "", "email": "", "embedded": str(people["signer"].pk)})

    assert [(r["name"], r["email"]) for r in envelope.recipients] == [("Bob Builder", people["signer"].email)]
    assert SandboxEnvelope.objects.get().recipients.get().email == people["signer"].email


@pytest.mark.parametrize("persona", ["staff", "superuser"])
def test_only_members_of_the_organization_can_be_chosen_as_embedded_signers(sandbox, acme, globex, people, persona):
    outsiders = {"staff": people["staff"], "superuser": people["superuser"],
                 "globex_admin": factories.client_admin("globex-admin", globex)}
    form_page = signed_in(people["sender"]).get(f"/onboarding/{acme.slug}/envelopes/new/").content.decode()
    assert "bob" in form_page and "carol" in form_page
    for outsider in outsiders.values():
        assert f'value="{outsider.pk}"' not in form_page

    url, data = sending_form(acme, embedded(outsiders[persona]))
    response = signed_in(people["sender"]).post(url, data)

    assert response.status_code == 200
    assert "Choose a member of" in response.content.decode()
    assert not api_requests().exists() and not Envelope.objects.exists()


def test_an_embedded_signer_s_email_must_be_their_own(sandbox, acme, people):
    url, data = sending_form(acme, {"name": "Bob", "email": "someone-else@client.example",
                                    "embedded": str(people["signer"].pk)})

    response = signed_in(people["sender"]).post(url, data)

    assert response.status_code == 200
    assert f"leave Email empty or enter {people['signer'].email}" in response.content.decode()
    assert not api_requests().exists() and not Envelope.objects.exists()


def test_a_signer_by_email_still_needs_a_name_and_an_email(sandbox, acme, people):
    url, data = sending_form(acme, {"name": "", "email": "", "embedded": ""}, {"name": "Rita", "email": "", "embedded": ""})
    data["recipient-0-name"] = "x"  # a touched row, so the formset validates it

    response = signed_in(people["sender"]).post(url, data)

    html = response.content.decode()
    assert response.status_code == 200 and "Enter the signer&#x27;s email address" in html
    assert not api_requests().exists() and not Envelope.objects.exists()


def test_an_envelope_with_no_recorded_binding_cannot_be_signed_here_by_anyone(sandbox, acme, people):
    """Envelopes from before the binding (or sent from DocuSign's own app) have a clientUserId but no portal person."""
    in_docusign = docusign_envelope(acme.account_id, status="sent", embedded=True)
    envelopes_sweep(acme)
    envelope = Envelope.objects.get(envelope_id=in_docusign.envelope_id)
    assert envelope.recipients[0]["client_user_id"]

    for persona in ("sender", "signer", "other_member", "staff_member", "superuser_member"):
        client = signed_in(people[persona])
        html = client.get(detail_url(envelope)).content.decode()
        assert "Sign now" not in html and "Nobody can sign here in the portal" in html, persona
        assert client.post(sign_url(envelope)).status_code == 404, persona
    assert api_requests(RECIPIENT_VIEWS).count() == 0


def test_the_envelope_page_and_the_sending_form_cost_the_same_queries_however_many_embedded_signers(
        sandbox, acme, people):
    others = [member(f"member-{n}", acme) for n in range(4)]
    one = send_from_the_portal(people["sender"], acme, embedded(people["signer"]))
    SandboxEnvelope.objects.update(email_subject="First")
    many = send_from_the_portal(people["sender"], acme, *(embedded(person) for person in [people["signer"], *others]))
    client = signed_in(people["signer"])

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    assert queries(detail_url(one)) == queries(detail_url(many))
    form = f"/onboarding/{acme.slug}/envelopes/new/"
    few_members = queries(form)
    for n in range(10):
        member(f"late-{n}", acme)
    assert queries(form) == few_members
