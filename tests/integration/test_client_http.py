"""The HTTP choke point: faults classified, safe retries, timeouts, caps, no redirects (docs/security.md BG-1, BG-2, BI-1)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from docusign_integration.client import errors, http
from docusign_integration.models import AccountRateLimit

pytestmark = pytest.mark.django_db

ACCOUNT = "a1b2c3d4-0000-4000-8000-000000000001"


def get(server, path="/restapi/v2.1/accounts/x/envelopes", **kwargs):
    return http.call("GET", server.url + path, environment="sandbox", **kwargs)


def error_body(code: str, message: str = "m") -> str:
    return json.dumps({"errorCode": code, "message": message})


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_is_transient_and_retried_three_times_for_a_get(fake_docusign, status):
    fake_docusign.answer(status, "<html>Service down</html>", {"Content-Type": "text/html"}, times=3)
    with pytest.raises(errors.TransientError) as caught:
        get(fake_docusign)
    assert caught.value.status == status and caught.value.retryable
    assert len(fake_docusign.received) == 3


def test_a_transient_failure_then_success_returns_the_success(fake_docusign):
    fake_docusign.answer(503, "busy")
    fake_docusign.answer(200, '{"ok": "true"}')
    assert http.json_or_raise(get(fake_docusign)) == {"ok": "true"}
    assert len(fake_docusign.received) == 2


def test_a_post_is_not_retried_unless_declared_idempotent(fake_docusign):
    fake_docusign.answer(502, "bad gateway", times=6)
    with pytest.raises(errors.TransientError):
        http.call("POST", fake_docusign.url + "/x", environment="sandbox", json={})
    assert len(fake_docusign.received) == 1
    with pytest.raises(errors.TransientError):
        http.call("POST", fake_docusign.url + "/x", environment="sandbox", json={}, idempotent=True)
    assert len(fake_docusign.received) == 4


def test_a_dropped_connection_is_transient(fake_docusign):
    fake_docusign.drop(times=3)
    with pytest.raises(errors.TransientError) as caught:
        get(fake_docusign)
    assert caught.value.error_code == "CONNECTION_ERROR"
    assert len(fake_docusign.received) == 3


def test_a_server_that_never_answers_fails_within_the_read_timeout(fake_docusign, settings):
    settings.DOCUSIGN_HTTP_TIMEOUT = (1.0, 0.3)
    settings.DOCUSIGN_HTTP_MAX_TRIES = 1
    fake_docusign.hang()
    started = time.monotonic()
    with pytest.raises(errors.TransientError) as caught:
        get(fake_docusign)
    assert caught.value.error_code == "TIMEOUT"
    assert time.monotonic() - started < 1.5


def test_429_with_retry_after_blocks_the_account_without_further_requests(fake_docusign):
    fake_docusign.answer(429, error_body("BURST_APIINVOCATION_LIMIT_EXCEEDED"), {"Retry-After": "12"})
    before = timezone.now()
    with pytest.raises(errors.RateLimited) as caught:
        get(fake_docusign, account_id=ACCOUNT)
    assert timedelta(seconds=11) <= caught.value.reset_at - before <= timedelta(seconds=13)
    assert len(fake_docusign.received) == 1  # rate limits are deferred by the caller, never retried in a loop

    with pytest.raises(errors.RateLimited):
        get(fake_docusign, account_id=ACCOUNT)
    assert len(fake_docusign.received) == 1  # refused locally: 0 HTTP while blocked


def test_the_hourly_limit_as_400_blocks_until_x_ratelimit_reset(fake_docusign):
    reset = int((timezone.now() + timedelta(minutes=20)).timestamp())
    fake_docusign.answer(400, error_body("HOURLY_APIINVOCATION_LIMIT_EXCEEDED"), {"X-RateLimit-Reset": str(reset)})
    with pytest.raises(errors.RateLimited) as caught:
        get(fake_docusign, account_id=ACCOUNT)
    assert caught.value.reset_at == datetime.fromtimestamp(reset, tz=UTC)
    limit = AccountRateLimit.objects.get(environment="sandbox", account_id=ACCOUNT)
    assert limit.blocked_until == datetime.fromtimestamp(reset, tz=UTC)


def test_other_accounts_are_not_blocked_by_one_accounts_limit(fake_docusign):
    AccountRateLimit.objects.create(environment="sandbox", account_id=ACCOUNT,
                                    blocked_until=timezone.now() + timedelta(minutes=5))
    fake_docusign.answer(200, "{}")
    get(fake_docusign, account_id="a1b2c3d4-0000-4000-8000-000000000002")
    assert len(fake_docusign.received) == 1


def test_rate_limit_headers_are_recorded_per_account(fake_docusign):
    reset = int(timezone.now().timestamp()) + 600
    fake_docusign.answer(200, "{}", {"X-RateLimit-Limit": "3000", "X-RateLimit-Remaining": "2990",
                                     "X-RateLimit-Reset": str(reset), "X-BurstLimit-Limit": "500",
                                     "X-BurstLimit-Remaining": "499"})
    get(fake_docusign, account_id=ACCOUNT)
    limit = AccountRateLimit.objects.get(environment="sandbox", account_id=ACCOUNT)
    assert (limit.limit, limit.remaining, limit.burst_limit, limit.burst_remaining) == (3000, 2990, 500, 499)
    assert limit.reset_at == datetime.fromtimestamp(reset, tz=UTC)
    assert limit.blocked_until is None


@pytest.mark.parametrize(("status", "code", "cls"), [
    (401, "AUTHORIZATION_INVALID_TOKEN", errors.Unauthorized),
    (400, "ENVELOPE_DOES_NOT_EXIST", errors.NotFound),
    (404, "", errors.NotFound),
    (400, "USER_DOES_NOT_BELONG_TO_SPECIFIED_ACCOUNT", errors.NotAMember),
    (400, "USER_LACKS_PERMISSIONS", errors.PermissionDenied),
    (400, "ACCOUNT_LACKS_PERMISSIONS", errors.PermissionDenied),
    (400, "INVALID_REQUEST_PARAMETER", errors.DocuSignError),
])
def test_rest_errors_map_to_their_class_and_are_not_retried(fake_docusign, status, code, cls):
    fake_docusign.answer(status, error_body(code, "DocuSign's own text") if code else "", times=3)
    with pytest.raises(cls) as caught:
        get(fake_docusign)
    assert type(caught.value) is cls
    assert not caught.value.retryable
    assert caught.value.status == status
    assert len(fake_docusign.received) == 1


def test_a_redirect_is_not_followed_and_the_bearer_never_reaches_the_other_host(fake_docusign, other_server):
    fake_docusign.answer(302, "", {"Location": other_server.url + "/steal"})
    with pytest.raises(errors.BadResponse) as caught:
        get(fake_docusign, bearer="CANARY-bearer-token")
    assert caught.value.error_code == "REDIRECT"
    assert other_server.received == []
    assert fake_docusign.received[0].headers["Authorization"] == "Bearer CANARY-bearer-token"


def test_an_oversized_answer_is_refused_after_max_bytes(fake_docusign):
    fake_docusign.answer(200, b"x" * (5 * 1024 * 1024), send_length=False)
    with pytest.raises(errors.BadResponse) as caught:
        get(fake_docusign, max_bytes=65536)
    assert caught.value.error_code == "RESPONSE_TOO_LARGE"


def test_a_declared_oversized_length_is_refused_before_reading(fake_docusign):
    fake_docusign.answer(200, b"x" * 70000)
    with pytest.raises(errors.BadResponse):
        get(fake_docusign, max_bytes=65536)


def test_a_streamed_download_is_capped_while_iterating(fake_docusign):
    fake_docusign.answer(200, b"%PDF" + b"0" * 300_000, {"Content-Type": "application/pdf"}, send_length=False)
    # No Content-Length: only counting the chunks as they arrive can stop it.
    download = http.download("GET", fake_docusign.url + "/restapi/v2.1/accounts/x/envelopes/e/documents/combined",
                             environment="sandbox", max_bytes=100_000)
    with pytest.raises(errors.BadResponse):
        b"".join(download)


@pytest.mark.parametrize("body", ["<html>Welcome</html>", '{"envelopeId": "trunc', "[1, 2]", ""])
def test_json_or_raise_refuses_anything_but_a_json_object(fake_docusign, body):
    fake_docusign.answer(200, body)
    response = get(fake_docusign)
    with pytest.raises(errors.BadResponse):
        http.json_or_raise(response)


def test_an_error_status_with_an_html_body_is_a_bad_response_without_the_body(fake_docusign):
    fake_docusign.answer(400, "<html>secret-looking page CANARY-html</html>", {"Content-Type": "text/html"})
    with pytest.raises(errors.BadResponse) as caught:
        get(fake_docusign)
    assert "CANARY" not in str(caught.value) and "CANARY" not in caught.value.description
