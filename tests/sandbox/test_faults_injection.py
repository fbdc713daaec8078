"""Fault injection as a DocuSign client meets it over HTTP, and the control API's loopback-only rule."""

from __future__ import annotations

import time

import pytest
import requests

from docusign_sandbox.models import ConnectConfiguration, Fault, RequestLog


def _fault(sandbox, kind: str, path_pattern: str = r"/connect$", count: int = 1) -> None:
    response = requests.post(f"{sandbox.url}/_sandbox/faults", timeout=10,
                             json={"path_pattern": path_pattern, "kind": kind, "count": count})
    assert response.status_code == 201, response.text


def _list(sandbox, member, timeout: float = 10) -> requests.Response:
    return requests.get(f"{sandbox.rest(member.account)}/connect", headers=member.headers, timeout=timeout)


@pytest.mark.parametrize("kind", ["500", "502", "503"])
def test_a_server_error_fault_answers_an_html_error_page_once(bare_sandbox, sandbox_member, kind):
    member = sandbox_member()
    _fault(bare_sandbox, kind)

    faulted, after = _list(bare_sandbox, member), _list(bare_sandbox, member)

    assert faulted.status_code == int(kind)
    assert faulted.headers["Content-Type"].startswith("text/html") and f"<h1>{kind} " in faulted.text
    assert after.status_code == 200 and after.json()["totalRecords"] == "0"


def test_a_429_fault_says_when_to_retry(bare_sandbox, sandbox_member):
    member = sandbox_member()
    _fault(bare_sandbox, "429")

    response = _list(bare_sandbox, member)

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


def test_a_timeout_fault_outlasts_the_clients_read_timeout_but_the_request_takes_effect(bare_sandbox, sandbox_member):
    member = sandbox_member()
    _fault(bare_sandbox, "timeout")
    config = {"configurationType": "custom", "name": "Slow", "urlToPublishTo": "https://portal.example/hook"}

    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(f"{bare_sandbox.rest(member.account)}/connect", headers=member.headers, json=config, timeout=0.5)

    deadline = time.monotonic() + 5
    while not RequestLog.objects.filter(path__endswith="/connect", status=201).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ConnectConfiguration.objects.filter(body__name="Slow").exists()


def test_a_drop_fault_closes_the_connection_without_a_response(bare_sandbox, sandbox_member):
    member = sandbox_member()
    _fault(bare_sandbox, "drop")

    with pytest.raises(requests.exceptions.ConnectionError):
        _list(bare_sandbox, member)

    assert _list(bare_sandbox, member).status_code == 200
    assert list(RequestLog.objects.order_by("pk").values_list("status", flat=True)) == [0, 200]


def test_a_malformed_fault_answers_truncated_json(bare_sandbox, sandbox_member):
    member = sandbox_member()
    _fault(bare_sandbox, "malformed")

    response = _list(bare_sandbox, member)

    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()


def test_a_fault_hits_only_matching_paths_and_only_count_times(bare_sandbox, sandbox_member):
    member = sandbox_member()
    _fault(bare_sandbox, "503", path_pattern=r"/connect/failures$", count=2)

    statuses = [requests.get(f"{bare_sandbox.rest(member.account)}/connect/failures", headers=member.headers,
                             timeout=10).status_code for _ in range(3)]

    assert _list(bare_sandbox, member).status_code == 200
    assert statuses == [503, 503, 200]


def test_the_control_api_is_never_faulted(bare_sandbox):
    _fault(bare_sandbox, "500", path_pattern=".*", count=5)

    assert requests.get(f"{bare_sandbox.url}/_sandbox/clock", timeout=10).status_code == 200
    assert requests.delete(f"{bare_sandbox.url}/_sandbox/faults", timeout=10).json() == {"faults": []}
    assert not Fault.objects.exists()


def test_a_bad_fault_definition_is_refused(bare_sandbox):
    bad_kind = requests.post(f"{bare_sandbox.url}/_sandbox/faults", json={"path_pattern": "x", "kind": "418"}, timeout=10)
    bad_regex = requests.post(f"{bare_sandbox.url}/_sandbox/faults", json={"path_pattern": "(", "kind": "500"}, timeout=10)

    assert (bad_kind.status_code, bad_regex.status_code) == (400, 400)
    assert not Fault.objects.exists()


@pytest.mark.parametrize("path", ["/_sandbox/faults", "/_sandbox/clock", "/_sandbox/connect/flush"])
def test_the_control_api_refuses_a_client_not_on_this_machine(client, db, settings, path):
    settings.ROOT_URLCONF = "docusign_sandbox.urls"
    body = {"path_pattern": ".*", "kind": "500", "count": 1}

    remote = client.post(path, body, content_type="application/json", REMOTE_ADDR="203.0.113.7")

    assert remote.status_code == 403
    assert not Fault.objects.exists()


def test_the_console_refuses_a_client_not_on_this_machine_and_serves_loopback(client, db, settings):
    settings.ROOT_URLCONF = "docusign_sandbox.urls"

    assert client.get("/_sandbox/", REMOTE_ADDR="203.0.113.7").status_code == 403
    for page in ("/_sandbox/", "/_sandbox/console/envelopes", "/_sandbox/console/connect", "/_sandbox/console/requests"):
        assert client.get(page).status_code == 200  # the test client's address is 127.0.0.1
