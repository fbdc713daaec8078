"""The console acts as any recipient (sign, decline): how a remote (email) signer finishes offline.

Its buttons are plain HTML forms on the console's envelopes page, protected by Django's CSRF token (the JSON control
API stays JSON-only); completing the last signer completes the envelope and publishes Connect exactly as DocuSign's
signing page does (docusign_sandbox.envelope_state). Spoken to over loopback HTTP, as a browser would.
"""

from __future__ import annotations

import re

import pytest
import requests

from docusign_sandbox import envelope_state
from docusign_sandbox.models import ConnectDelivery, Envelope
from tests.connect.sandbox_world import acme, connect_configuration, draft_envelope

pytestmark = pytest.mark.django_db(transaction=True)

CONSOLE = "/_sandbox/console/envelopes"
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _sent(signers: int = 1) -> Envelope:
    envelope = draft_envelope(acme(), signers=signers, subject="Lease")
    envelope_state.send(envelope)
    envelope.refresh_from_db()
    return envelope


def _action_url(envelope: Envelope, recipient_id: str, action: str) -> str:
    return f"/_sandbox/console/envelopes/{envelope.envelope_id}/recipients/{recipient_id}/{action}"


def _press(session: requests.Session, sandbox, envelope: Envelope, recipient_id: str, action: str,
           **fields: str) -> requests.Response:
    """Open the console's envelopes page, then submit the recipient's form with the page's CSRF token."""
    page = session.get(f"{sandbox.url}{CONSOLE}", timeout=10)
    assert page.status_code == 200
    assert f'action="{_action_url(envelope, recipient_id, action)}"' in page.text, page.text[:2000]
    token = _CSRF.search(page.text).group(1)
    return session.post(f"{sandbox.url}{_action_url(envelope, recipient_id, action)}", allow_redirects=False,
                        data={"csrfmiddlewaretoken": token, **fields}, headers={"Origin": sandbox.url}, timeout=10)


def test_the_envelopes_page_lists_each_recipient_with_sign_and_decline_for_the_one_whose_turn_it_is(sandbox):
    envelope = _sent(signers=2)

    page = requests.get(f"{sandbox.url}{CONSOLE}", timeout=10).text

    assert "signer1@example.com" in page and "signer2@example.com" in page
    assert f'action="{_action_url(envelope, "1", "sign")}"' in page
    assert f'action="{_action_url(envelope, "1", "decline")}"' in page
    # Routing order 2 is not reached yet: no buttons for it.
    assert _action_url(envelope, "2", "sign") not in page


def test_signing_the_last_signer_completes_the_envelope_and_publishes_connect_like_the_signing_page(sandbox):
    connect_configuration(acme(), "http://127.0.0.1:9/connect")
    envelope = _sent(signers=2)

    with requests.Session() as session:
        first = _press(session, sandbox, envelope, "1", "sign")
        second = _press(session, sandbox, envelope, "2", "sign")
        after = session.get(f"{sandbox.url}{first.headers['Location']}", timeout=10)

    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["Location"].startswith(CONSOLE)
    envelope.refresh_from_db()
    assert envelope.status == "completed" and envelope.completed_at
    assert list(envelope.recipients.order_by("recipient_id").values_list("status", flat=True)) == ["completed"] * 2
    events = list(ConnectDelivery.objects.filter(envelope_id=envelope.envelope_id).order_by("pk")
                  .values_list("event", flat=True))
    # What DocuSign's signing page publishes: each signer opens the envelope, then signs; the last completes it.
    assert events == ["envelope-sent", "recipient-sent",
                      "recipient-delivered", "envelope-delivered", "recipient-completed", "recipient-sent",
                      "recipient-delivered", "recipient-completed", "envelope-completed"]
    assert "completed" in after.text


def test_declining_with_a_reason_declines_the_envelope(sandbox):
    envelope = _sent()

    with requests.Session() as session:
        response = _press(session, sandbox, envelope, "1", "decline", reason="Wrong rent")

    assert response.status_code == 303
    envelope.refresh_from_db()
    recipient = envelope.recipients.get()
    assert envelope.status == "declined" and recipient.status == "declined"
    assert recipient.declined_reason == "Wrong rent"


def test_a_form_post_without_the_csrf_token_changes_nothing(sandbox):
    envelope = _sent()

    response = requests.post(f"{sandbox.url}{_action_url(envelope, '1', 'sign')}", data={}, timeout=10,
                             allow_redirects=False)

    assert response.status_code == 403
    envelope.refresh_from_db()
    assert envelope.status == "sent" and envelope.recipients.get().status == "sent"


def test_a_recipient_whose_turn_it_is_not_is_refused_with_a_message_and_nothing_changes(sandbox):
    envelope = _sent(signers=2)

    with requests.Session() as session:
        page = session.get(f"{sandbox.url}{CONSOLE}", timeout=10)
        token = _CSRF.search(page.text).group(1)
        response = session.post(f"{sandbox.url}{_action_url(envelope, '2', 'sign')}", data={"csrfmiddlewaretoken": token},
                                headers={"Origin": sandbox.url}, timeout=10)

    assert response.status_code == 409
    assert "not this recipient&#x27;s turn" in response.text
    assert envelope.recipients.get(recipient_id="2").status == "created"


def test_without_control_enabled_the_console_actions_are_not_found(sandbox, settings):
    envelope = _sent()
    settings.DOCUSIGN_SANDBOX_CONTROL = False

    response = requests.post(f"{sandbox.url}{_action_url(envelope, '1', 'sign')}", data={}, timeout=10)

    assert response.status_code == 404
    assert envelope.recipients.get().status == "sent"
