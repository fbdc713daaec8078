"""The envelope page after a return from DocuSign: the banner, the badge and the buttons agree, and the live fragment
(polled by static/envelope_live.js) follows the portal's own rows to the final status without calling DocuSign."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from docusign_integration.envelopes.sync import envelopes_sweep
from docusign_integration.models import Envelope
from docusign_sandbox import envelope_state
from docusign_sandbox.models import Envelope as SandboxEnvelope
from tenants.models import MembershipRole
from tests.envelopes.conftest import api_requests
from tests.envelopes.test_embedded_signer_binding import detail_url, embedded, member, sending_form, signed_in


@pytest.fixture
def people(acme):
    return {"sender": member("ana-admin", acme, MembershipRole.ADMIN), "signer": member("bob", acme)}


def draft_sent_in_docusign(acme, people) -> Envelope:
    """Ana's draft, just sent in DocuSign's sender view; the portal has not heard about it yet (no sweep ran)."""
    url, data = sending_form(acme, embedded(people["signer"]))
    assert signed_in(people["sender"]).post(url, data).status_code == 302
    in_docusign = SandboxEnvelope.objects.get(email_subject="Mutual NDA")
    envelope_state.send(in_docusign)
    return Envelope.objects.get(envelope_id=in_docusign.envelope_id)


def live_url(envelope: Envelope, query: str) -> str:
    return f"{detail_url(envelope)}live/?{query}"


def test_after_send_the_page_never_shows_sent_beside_a_draft_badge_and_the_fragment_turns_to_sent(sandbox, acme, people):
    envelope = draft_sent_in_docusign(acme, people)
    client = signed_in(people["sender"])

    back = client.get(f"/onboarding/{acme.slug}/envelopes/return/", {"event": "Send", "envelope": envelope.envelope_id})
    page = client.get(back["Location"]).content.decode()

    assert urlsplit(back["Location"]).path == detail_url(envelope)
    assert Envelope.objects.get(pk=envelope.pk).status == "created"  # the sweep is queued, not run
    assert "Draft" not in page and ">Sending<" in page and "confirming it was sent" in page
    assert "Prepare and send" not in page and "Sent." not in page
    assert 'data-final="false"' in page and "/static/envelope_live.js" in page

    envelopes_sweep(acme)  # what the queued sweep (or a Connect message) does
    calls = api_requests().count()
    fragment = client.get(live_url(envelope, "sent=Send")).content.decode()

    assert "Sent. DocuSign is notifying the recipients" in fragment and '<span class="status later">Sent</span>' in fragment
    assert "Prepare and send" not in fragment and 'id="envelope-live"' in fragment
    assert "<html" not in fragment  # only the live part
    assert api_requests().count() == calls  # the poll reads the portal's rows, never DocuSign


def test_after_signing_there_is_no_live_sign_now_while_docusign_has_not_reported_it(sandbox, acme, people):
    envelope = draft_sent_in_docusign(acme, people)
    envelopes_sweep(acme)
    client = signed_in(people["signer"])
    assert "Sign now as bob" in client.get(detail_url(envelope)).content.decode()

    back = client.get(f"{detail_url(envelope)}signed/", {"event": "signing_complete"})
    page = client.get(back["Location"]).content.decode()

    assert "Sign now" not in page and "waiting for DocuSign to confirm your signature" in page
    assert 'data-final="false"' in page
    envelope_state.sign(SandboxEnvelope.objects.get().recipients.get())
    envelopes_sweep(acme)
    fragment = client.get(live_url(envelope, "signed=signing_complete")).content.decode()
    assert "Signed. DocuSign has your signature." in fragment and ">Completed</span>" in fragment
    assert "Sign now" not in fragment


def test_a_url_s_event_text_is_never_echoed_and_decides_no_status(sandbox, acme, people):
    envelope = draft_sent_in_docusign(acme, people)
    fragment = signed_in(people["sender"]).get(live_url(envelope, "sent=%3Cscript%3Ealert(1)")).content.decode()

    assert "<script>" not in fragment and "without saying what happened" in fragment
    assert Envelope.objects.get(pk=envelope.pk).status == "created"


def test_the_live_fragment_costs_the_same_queries_however_many_signers(sandbox, acme, people):
    others = [member(f"member-{n}", acme) for n in range(4)]
    one = draft_sent_in_docusign(acme, people)
    SandboxEnvelope.objects.update(email_subject="First")
    url, data = sending_form(acme, *(embedded(person) for person in [people["signer"], *others]))
    signed_in(people["sender"]).post(url, data)
    many = Envelope.objects.exclude(pk=one.pk).get()
    envelopes_sweep(acme)
    client = signed_in(people["signer"])

    def queries(envelope: Envelope) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(live_url(envelope, "signed=signing_complete")).status_code == 200
        return len(captured)

    assert queries(one) == queries(many)


def test_another_organization_s_member_gets_404_from_the_fragment(sandbox, acme, globex, people):
    from tests import factories

    envelope = draft_sent_in_docusign(acme, people)
    outsider = signed_in(factories.client_admin("globex-admin", globex))
    assert outsider.get(live_url(envelope, "")).status_code == 404
    assert outsider.get(f"/onboarding/{globex.slug}/envelopes/{envelope.envelope_id}/live/").status_code == 404
