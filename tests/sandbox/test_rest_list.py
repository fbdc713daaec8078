"""GET /envelopes (list status changes) over loopback HTTP: required parameters, filters, paging, order."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.sandbox.rest_support import serve_rest_sandbox

MISSING_PARAMETER_MESSAGE = (
    "The request contained at least one invalid parameter. Query parameter 'from_date' must be set to a valid "
    "DateTime, or 'envelope_ids' or 'transaction_ids' must be specified.")


@pytest.fixture
def rest(transactional_db):
    with serve_rest_sandbox() as sandbox:
        yield sandbox


def _ids(listing: dict) -> list[str]:
    return [e["envelopeId"] for e in listing["envelopes"]]


def _before(rest, envelope_id: str, minutes: int) -> str:
    """An ISO 8601 time `minutes` before the envelope was sent, on the sandbox's clock."""
    sent = rest.call("GET", f"/envelopes/{envelope_id}").json()["sentDateTime"]
    return (datetime.fromisoformat(sent) - timedelta(minutes=minutes)).isoformat()


def test_without_from_date_envelope_ids_or_transaction_ids_it_is_docusigns_exact_400(rest):
    response = rest.call("GET", "/envelopes?status=sent")

    assert response.status_code == 400
    assert response.json() == {"errorCode": "INVALID_REQUEST_PARAMETER", "message": MISSING_PARAMETER_MESSAGE}


def test_an_unparseable_from_date_is_the_same_400(rest):
    response = rest.call("GET", "/envelopes?from_date=yesterday")

    assert response.json()["message"] == MISSING_PARAMETER_MESSAGE


def test_from_date_lists_envelopes_changed_since_then_with_string_counters(rest):
    rest.set_clock_offset(-3600)
    old = rest.create_envelope()["envelopeId"]
    rest.set_clock_offset(0)
    new = rest.create_envelope()["envelopeId"]
    since = rest.call("GET", f"/envelopes/{new}").json()["createdDateTime"]

    listing = rest.call("GET", "/envelopes", params={"from_date": since}).json()

    assert _ids(listing) == [new]
    assert old not in _ids(listing)
    assert (listing["resultSetSize"], listing["totalSetSize"], listing["startPosition"], listing["endPosition"]) == (
        "1", "1", "0", "0")
    assert listing["nextUri"] is None and listing["previousUri"] is None


def test_an_old_envelope_whose_status_changed_recently_is_listed(rest):
    rest.set_clock_offset(-3600)
    envelope_id = rest.create_envelope()["envelopeId"]
    rest.set_clock_offset(0)
    rest.call("PUT", f"/envelopes/{envelope_id}", json={"status": "sent"})

    listing = rest.call("GET", "/envelopes", params={"from_date": "2000-01-01", "status": "sent"}).json()
    recent = rest.call("GET", "/envelopes", params={"from_date": _before(rest, envelope_id, 5)}).json()

    assert _ids(listing) == [envelope_id]
    assert _ids(recent) == [envelope_id]


def test_status_filters_by_a_comma_list_and_any_matches_all(rest):
    draft = rest.create_envelope()["envelopeId"]
    sent = rest.create_envelope(status="sent")["envelopeId"]

    only_sent = rest.call("GET", "/envelopes", params={"from_date": "2000-01-01", "status": "sent"}).json()
    both = rest.call("GET", "/envelopes", params={"from_date": "2000-01-01", "status": "created,sent"}).json()
    any_status = rest.call("GET", "/envelopes", params={"from_date": "2000-01-01", "status": "any"}).json()

    assert _ids(only_sent) == [sent]
    assert set(_ids(both)) == set(_ids(any_status)) == {draft, sent}


def test_envelope_ids_alone_is_enough_and_selects_those_envelopes(rest):
    first = rest.create_envelope()["envelopeId"]
    rest.create_envelope()

    listing = rest.call("GET", "/envelopes", params={"envelope_ids": first}).json()

    assert _ids(listing) == [first]


def test_transaction_ids_select_envelopes_by_the_senders_transaction_id(rest):
    tagged = rest.create_envelope(transactionId="order-77")["envelopeId"]
    rest.create_envelope(transactionId="order-78")

    listing = rest.call("GET", "/envelopes", params={"transaction_ids": "order-77"}).json()

    assert _ids(listing) == [tagged]


def test_from_to_status_completed_lists_only_envelopes_completed_in_the_window(rest):
    rest.create_envelope(status="sent")

    listing = rest.call("GET", "/envelopes", params={"from_date": "2000-01-01", "from_to_status": "completed"}).json()

    assert listing["envelopes"] == []


def test_count_and_start_position_page_through_in_status_change_order(rest):
    created = []
    for minutes in (-30, -20, -10):
        rest.set_clock_offset(minutes * 60)
        created.append(rest.create_envelope()["envelopeId"])
    rest.set_clock_offset(0)

    first = rest.call("GET", "/envelopes", params={"from_date": "2000-01-01", "count": "2"}).json()
    second = rest.call("GET", "/envelopes", params={"from_date": "2000-01-01", "count": "2",
                                                    "start_position": "2"}).json()

    assert _ids(first) + _ids(second) == created
    assert (first["resultSetSize"], first["totalSetSize"], first["endPosition"]) == ("2", "3", "1")
    assert "start_position=2" in first["nextUri"] and first["previousUri"] is None
    assert second["nextUri"] is None and "start_position=0" in second["previousUri"]


def test_order_desc_lists_the_latest_change_first(rest):
    rest.set_clock_offset(-60)
    older = rest.create_envelope()["envelopeId"]
    rest.set_clock_offset(0)
    newer = rest.create_envelope()["envelopeId"]

    listing = rest.call("GET", "/envelopes", params={"from_date": "2000-01-01", "order": "desc"}).json()

    assert _ids(listing) == [newer, older]


def test_include_recipients_adds_them_to_each_envelope(rest):
    rest.create_envelope()

    listing = rest.call("GET", "/envelopes", params={"from_date": "2000-01-01", "include": "recipients"}).json()

    assert listing["envelopes"][0]["recipients"]["signers"][0]["name"] == "Ana Signer"


def test_another_accounts_envelopes_are_never_listed(rest):
    rest.create_envelope()

    listing = rest.call("GET", "/envelopes", params={"from_date": "2000-01-01"}, token=rest.other_token,
                        account_id=rest.other_account_id).json()

    assert listing["envelopes"] == [] and listing["totalSetSize"] == "0"
