"""Sender and recipient views over loopback HTTP: the API answers, then the pages a person clicks through."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.sandbox.rest_support import RETURN_URL, Browser, recipient_view_request, serve_rest_sandbox


@pytest.fixture
def rest(transactional_db):
    with serve_rest_sandbox() as sandbox:
        yield sandbox


def _event(response) -> str:
    """The `event` DocuSign appended to the returnUrl, after checking the redirect goes back to it."""
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location._replace(query="").geturl() == urlsplit(RETURN_URL)._replace(query="").geturl()
    query = parse_qs(location.query)
    assert query["ref"] == ["42"]  # the portal's own parameters survive
    return query["event"][0]


def _sender_view(rest, envelope_id: str, body: dict | None = None):
    return rest.call("POST", f"/envelopes/{envelope_id}/views/sender", json=body or {"returnUrl": RETURN_URL})


def _signing_url(rest, envelope_id: str) -> str:
    response = rest.call("POST", f"/envelopes/{envelope_id}/views/recipient", json=recipient_view_request())
    assert response.status_code == 201, response.text
    return response.json()["url"]


def _status(rest, envelope_id: str) -> str:
    return rest.call("GET", f"/envelopes/{envelope_id}").json()["status"]


def test_draft_sender_view_send_button_sends_and_returns_with_event_send(rest):
    envelope_id = rest.create_envelope()["envelopeId"]
    response = _sender_view(rest, envelope_id)
    assert response.status_code == 201
    url = response.json()["url"]
    assert url.startswith(rest.url + "/")  # absolute, on the origin the client called

    browser = Browser()
    assert browser.open(url).status_code == 200
    assert "Please sign the NDA" in browser.page and "Ana Signer" in browser.page

    assert _event(browser.press("send")) == "Send"
    assert _status(rest, envelope_id) == "sent"


def test_save_draft_and_cancel_return_without_sending(rest):
    for action, event in (("save", "Save"), ("cancel", "Cancel")):
        envelope_id = rest.create_envelope()["envelopeId"]
        browser = Browser()
        browser.open(_sender_view(rest, envelope_id).json()["url"])

        assert _event(browser.press(action)) == event
        assert _status(rest, envelope_id) == "created"


def test_the_2024_sender_view_body_shows_its_starting_screen(rest):
    envelope_id = rest.create_envelope()["envelopeId"]
    body = {"returnUrl": RETURN_URL, "viewAccess": "envelope",
            "settings": {"startingScreen": "Prepare", "sendButtonAction": "send", "showBackButton": "false"}}

    browser = Browser()
    browser.open(_sender_view(rest, envelope_id, body).json()["url"])

    assert "data-starting-screen>Prepare<" in browser.page


def test_sending_an_incomplete_draft_from_the_page_returns_event_error(rest):
    envelope_id = rest.create_envelope(emailSubject="")["envelopeId"]
    browser = Browser()
    browser.open(_sender_view(rest, envelope_id).json()["url"])

    assert _event(browser.press("send")) == "Error"
    assert _status(rest, envelope_id) == "created"


def test_the_sender_view_is_only_for_drafts(rest):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]

    response = _sender_view(rest, envelope_id)

    assert response.status_code == 400
    assert "draft" in response.json()["message"]


@pytest.mark.parametrize("return_url", ["", "https://portal.example/" + "x" * 460, "javascript:alert(1)"])
def test_a_missing_overlong_or_non_http_return_url_is_refused(rest, return_url):
    envelope_id = rest.create_envelope()["envelopeId"]

    response = _sender_view(rest, envelope_id, {"returnUrl": return_url})

    assert response.status_code == 400
    assert response.json()["errorCode"] == "INVALID_REQUEST_PARAMETER"


def test_recipient_view_then_sign_completes_the_envelope_and_returns_signing_complete(rest):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]
    browser = Browser()
    assert browser.open(_signing_url(rest, envelope_id)).status_code == 200

    assert _event(browser.press("sign")) == "signing_complete"
    envelope = rest.call("GET", f"/envelopes/{envelope_id}?include=recipients").json()
    assert envelope["status"] == "completed"
    assert "completedDateTime" in envelope
    assert envelope["recipients"]["signers"][0]["status"] == "completed"
    assert envelope["recipients"]["carbonCopies"][0]["status"] == "completed"


def test_opening_the_signing_page_marks_the_recipient_and_envelope_delivered(rest):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]

    Browser().open(_signing_url(rest, envelope_id))

    envelope = rest.call("GET", f"/envelopes/{envelope_id}?include=recipients").json()
    assert envelope["status"] == "delivered"
    assert envelope["recipients"]["signers"][0]["status"] == "delivered"
    assert "deliveredDateTime" in envelope["recipients"]["signers"][0]


def test_declining_with_a_reason_declines_the_envelope(rest):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]
    browser = Browser()
    browser.open(_signing_url(rest, envelope_id))

    assert _event(browser.press("decline", reason="Terms are wrong")) == "decline"
    signer = rest.call("GET", f"/envelopes/{envelope_id}/recipients").json()["signers"][0]
    assert (signer["status"], signer["declinedReason"]) == ("declined", "Terms are wrong")
    assert _status(rest, envelope_id) == "declined"


def test_declining_without_a_reason_asks_for_one_and_changes_nothing(rest):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]
    browser = Browser()
    browser.open(_signing_url(rest, envelope_id))

    response = browser.press("decline", reason="  ")

    assert response.status_code == 400
    assert "give a reason" in response.text
    assert _status(rest, envelope_id) == "delivered"
    assert _event(browser.press("sign")) == "signing_complete"  # the page still works


def test_finish_later_returns_cancel_and_leaves_the_envelope_to_sign(rest):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]
    browser = Browser()
    browser.open(_signing_url(rest, envelope_id))

    assert _event(browser.press("finish_later")) == "cancel"
    assert _status(rest, envelope_id) == "delivered"
    assert Browser().open(_signing_url(rest, envelope_id)).status_code == 200  # a new view works


def test_a_completed_envelope_opens_read_only_and_closes_with_viewing_complete(rest):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]
    signing = Browser()
    signing.open(_signing_url(rest, envelope_id))
    signing.press("sign")

    viewing = Browser()
    viewing.open(_signing_url(rest, envelope_id))

    assert 'value="sign"' not in viewing.page
    assert _event(viewing.press("close")) == "viewing_complete"


def test_a_wrong_client_user_id_is_unknown_envelope_recipient(rest):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]

    response = rest.call("POST", f"/envelopes/{envelope_id}/views/recipient",
                         json=recipient_view_request(clientUserId="someone-else"))

    assert response.status_code == 400
    assert response.json()["errorCode"] == "UNKNOWN_ENVELOPE_RECIPIENT"


@pytest.mark.parametrize("field, value", [("email", "other@client.example"), ("userName", "Ana Other")])
def test_a_wrong_email_or_user_name_is_unknown_envelope_recipient(rest, field, value):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]

    response = rest.call("POST", f"/envelopes/{envelope_id}/views/recipient",
                         json=recipient_view_request(**{field: value}))

    assert response.json()["errorCode"] == "UNKNOWN_ENVELOPE_RECIPIENT"


def test_a_remote_signer_has_no_embedded_view(rest):
    envelope_id = rest.create_envelope(status="sent", client_user_id=None)["envelopeId"]

    response = rest.call("POST", f"/envelopes/{envelope_id}/views/recipient",
                         json=recipient_view_request(clientUserId=""))

    assert response.json()["errorCode"] == "UNKNOWN_ENVELOPE_RECIPIENT"


def test_the_authentication_method_is_required(rest):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]
    body = recipient_view_request()
    del body["authenticationMethod"]

    response = rest.call("POST", f"/envelopes/{envelope_id}/views/recipient", json=body)

    assert response.status_code == 400
    assert "authenticationMethod" in response.json()["message"]


def test_a_draft_has_no_recipient_view(rest):
    envelope_id = rest.create_envelope()["envelopeId"]

    response = rest.call("POST", f"/envelopes/{envelope_id}/views/recipient", json=recipient_view_request())

    assert response.status_code == 400


def test_a_reused_one_time_url_shows_an_error_page(rest):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]
    url = _signing_url(rest, envelope_id)
    Browser().open(url)

    response = Browser().open(url)

    assert response.status_code == 410
    assert "already been used" in response.text


def test_an_expired_url_returns_ttl_expired(rest):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]
    url = _signing_url(rest, envelope_id)
    rest.set_clock_offset(5 * 60 + 1)

    assert _event(Browser().open(url)) == "ttl_expired"
    assert _status(rest, envelope_id) == "sent"  # never opened, so not delivered


def test_a_url_opened_within_five_minutes_works(rest):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]
    url = _signing_url(rest, envelope_id)
    rest.set_clock_offset(4 * 60)

    assert Browser().open(url).status_code == 200


def test_a_button_press_without_the_pages_own_value_is_refused(rest):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]
    url = _signing_url(rest, envelope_id)
    browser = Browser()
    browser.open(url)
    browser.page = browser.page.replace('name="page" value="', 'name="page" value="forged')

    response = browser.press("sign")

    assert response.status_code == 400
    assert _status(rest, envelope_id) == "delivered"


def test_a_finished_page_cannot_be_submitted_again(rest):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]
    browser = Browser()
    browser.open(_signing_url(rest, envelope_id))
    page = browser.page
    browser.press("finish_later")

    browser.page = page
    response = browser.press("sign")

    assert response.status_code == 404
    assert _status(rest, envelope_id) == "delivered"
