"""DocuSign's rate limits as the sandbox applies them: headers, hourly and burst refusals, per-envelope polling."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import requests
from django.utils import timezone

from docusign_sandbox.limits import envelope_get_times
from docusign_sandbox.models import Envelope


def _control(sandbox, path: str, body: dict) -> dict:
    response = requests.post(f"{sandbox.url}/_sandbox/{path}", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _users(sandbox, member) -> requests.Response:
    return requests.get(f"{sandbox.rest(member.account)}/connect", headers=member.headers, timeout=10)


def _envelope(member) -> Envelope:
    now = timezone.now()
    return Envelope.objects.create(account=member.account, sender=member.user, email_subject="Status",
                                   created_at=now, status_changed_at=now, last_modified_at=now)


def test_every_rest_response_carries_the_rate_limit_headers(bare_sandbox, sandbox_member):
    _control(bare_sandbox, "clock", {"set": "2030-01-01T10:15:00Z"})
    member = sandbox_member()  # after the clock moved, so that its token is live at that time

    first, second = _users(bare_sandbox, member), _users(bare_sandbox, member)
    unauthenticated = requests.get(f"{bare_sandbox.rest(member.account)}/connect", timeout=10)

    reset = int(datetime(2030, 1, 1, 11, 0, tzinfo=UTC).timestamp())
    for response in (first, second, unauthenticated):
        assert response.headers["X-RateLimit-Limit"] == "3000"
        assert response.headers["X-RateLimit-Reset"] == str(reset)  # epoch seconds of the next hour
        assert response.headers["X-BurstLimit-Limit"] == "500"
        uuid.UUID(response.headers["X-DocuSign-TraceToken"])
    assert (first.headers["X-RateLimit-Remaining"], second.headers["X-RateLimit-Remaining"]) == ("2999", "2998")
    assert second.headers["X-BurstLimit-Remaining"] == "498"
    assert unauthenticated.status_code == 401
    assert first.headers["X-DocuSign-TraceToken"] != second.headers["X-DocuSign-TraceToken"]


def test_past_the_hourly_limit_calls_are_refused_until_the_next_hour(bare_sandbox, sandbox_member):
    _control(bare_sandbox, "clock", {"set": "2030-01-01T10:15:00Z"})
    member, other = sandbox_member(), sandbox_member()
    _control(bare_sandbox, "rate-limit", {"hourly_limit": 3, "account_id": member.account.account_id})

    allowed = [_users(bare_sandbox, member).status_code for _ in range(3)]
    refused = _users(bare_sandbox, member)
    _control(bare_sandbox, "clock", {"advance_seconds": 45 * 60})  # 11:00, a new hour

    assert allowed == [200, 200, 200]
    assert refused.status_code == 400
    assert refused.json() == {
        "errorCode": "HOURLY_APIINVOCATION_LIMIT_EXCEEDED",
        "message": "The maximum number of hourly API invocations has been exceeded. The hourly limit is 3."}
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert _users(bare_sandbox, other).status_code == 200  # another account's budget is its own
    assert _users(bare_sandbox, member).status_code == 200


def test_the_limit_status_can_be_switched_to_429(bare_sandbox, sandbox_member):
    member = sandbox_member()
    _control(bare_sandbox, "rate-limit", {"status": 429, "hourly_limit": 1})

    _users(bare_sandbox, member)
    refused = _users(bare_sandbox, member)

    assert refused.status_code == 429
    assert refused.json()["errorCode"] == "HOURLY_APIINVOCATION_LIMIT_EXCEEDED"


def test_past_the_burst_limit_calls_are_refused_for_30_seconds(bare_sandbox, sandbox_member):
    _control(bare_sandbox, "clock", {"set": "2030-01-01T10:15:00Z"})
    member = sandbox_member()  # after the clock moved, so that its token is live at that time
    _control(bare_sandbox, "rate-limit", {"burst_limit": 2})

    allowed = [_users(bare_sandbox, member).status_code for _ in range(2)]
    refused = _users(bare_sandbox, member)
    _control(bare_sandbox, "clock", {"advance_seconds": 31})

    assert allowed == [200, 200]
    assert refused.json()["errorCode"] == "BURST_APIINVOCATION_LIMIT_EXCEEDED"
    assert _users(bare_sandbox, member).status_code == 200


def test_polling_one_envelope_too_often_is_refused_per_envelope(bare_sandbox, sandbox_member):
    member = sandbox_member()
    polled, other = _envelope(member), _envelope(member)
    url = f"{bare_sandbox.rest(member.account)}/envelopes"

    statuses = [requests.get(f"{url}/{polled.envelope_id}", headers=member.headers, timeout=10).status_code
                for _ in range(21)]
    refused = requests.get(f"{url}/{polled.envelope_id}/recipients", headers=member.headers, timeout=10)

    assert statuses == [200] * 20 + [400]
    assert refused.json()["errorCode"] == "Burst_Envelope_Polling_Limit_Exceeded"
    assert requests.get(f"{url}/{other.envelope_id}", headers=member.headers, timeout=10).status_code == 200


def test_envelope_get_times_shows_the_polling_interval_on_the_sandbox_clock(bare_sandbox, sandbox_member):
    member = sandbox_member()
    envelope = _envelope(member)
    url = f"{bare_sandbox.rest(member.account)}/envelopes/{envelope.envelope_id}"

    requests.get(url, headers=member.headers, timeout=10)
    requests.put(url, headers=member.headers, json={}, timeout=10)  # not a GET: not polling
    _control(bare_sandbox, "clock", {"advance_seconds": 15 * 60})
    requests.get(f"{url}/recipients", headers=member.headers, timeout=10)

    first, second = envelope_get_times(envelope.envelope_id)
    assert second - first >= timedelta(minutes=15)


def test_the_request_log_lists_what_a_client_sent_with_its_account_and_envelope(bare_sandbox, sandbox_member):
    member = sandbox_member()
    envelope = _envelope(member)
    requests.get(f"{bare_sandbox.rest(member.account)}/envelopes/{envelope.envelope_id}", headers=member.headers,
                 timeout=10)
    _users(bare_sandbox, member)

    logged = requests.get(f"{bare_sandbox.url}/_sandbox/requests", params={"path": "/envelopes/"}, timeout=10).json()

    [entry] = logged["requests"]
    assert (entry["method"], entry["status"]) == ("GET", 200)
    assert entry["account_id"] == member.account.account_id and entry["user_id"] == member.user.user_id
    assert entry["envelope_id"] == envelope.envelope_id
