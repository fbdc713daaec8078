"""Who may steer the sandbox through `/_sandbox/`: only a sandbox started with control on, same-origin, JSON only.

The control API signs envelopes and moves the clock, so a sandbox run without `DOCUSIGN_SANDBOX_CONTROL` hides it
(404), and a web page elsewhere cannot reach it from a developer's browser: a cross-origin `Origin` is refused (403)
and a body that a plain HTML form or `fetch` without a preflight can send (form-encoded, text/plain) is refused
(415). Scripts (requests, curl) send no `Origin` and are served. Spoken to over loopback HTTP.
"""

from __future__ import annotations

import pytest
import requests

from docusign_sandbox.models import Fault, SandboxControl

FAULT = {"path_pattern": "^/oauth/token$", "kind": "503", "count": 1}
CONSOLE_PAGES = ("/_sandbox/", "/_sandbox/console/envelopes", "/_sandbox/console/connect", "/_sandbox/console/requests")


def test_without_control_enabled_every_control_and_console_url_is_not_found(bare_sandbox, settings):
    settings.DOCUSIGN_SANDBOX_CONTROL = False

    posted = requests.post(f"{bare_sandbox.url}/_sandbox/faults", json=FAULT, timeout=10)
    moved = requests.post(f"{bare_sandbox.url}/_sandbox/clock", json={"advance_seconds": 3600}, timeout=10)
    listed = requests.get(f"{bare_sandbox.url}/_sandbox/requests", timeout=10)
    pages = [requests.get(f"{bare_sandbox.url}{page}", timeout=10).status_code for page in CONSOLE_PAGES]

    assert (posted.status_code, moved.status_code, listed.status_code) == (404, 404, 404)
    assert pages == [404] * len(CONSOLE_PAGES)
    assert not Fault.objects.exists()
    assert SandboxControl.get().clock_offset_seconds == 0


def test_without_control_enabled_docusigns_own_paths_still_answer(bare_sandbox, settings):
    settings.DOCUSIGN_SANDBOX_CONTROL = False

    # The sandbox stays a DocuSign (userinfo without a token is DocuSign's 401); only the steering is gone.
    assert requests.get(f"{bare_sandbox.url}/oauth/userinfo", timeout=10).status_code == 401


@pytest.mark.parametrize("content_type, body", [
    ("application/x-www-form-urlencoded", "path_pattern=%5E%2Foauth%2Ftoken%24&kind=503&count=1"),
    ("multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="kind"\r\n\r\n503\r\n--x--\r\n'),
    ("text/plain", '{"path_pattern": "^/oauth/token$", "kind": "503", "count": 1}'),
    ("application/x-www-form-urlencoded", ""),  # a form without fields: the sign and flush actions need no fields
])
def test_a_body_a_cross_origin_form_could_send_is_refused_with_415(bare_sandbox, content_type, body):
    response = requests.post(f"{bare_sandbox.url}/_sandbox/faults", data=body, headers={"Content-Type": content_type},
                             timeout=10)

    assert response.status_code == 415
    assert not Fault.objects.exists()


def test_a_body_without_a_content_type_is_refused_with_415(bare_sandbox):
    request = requests.Request("POST", f"{bare_sandbox.url}/_sandbox/clock", data=b'{"advance_seconds": 3600}')
    prepared = request.prepare()
    prepared.headers.pop("Content-Type", None)

    with requests.Session() as session:
        response = session.send(prepared, timeout=10)

    assert response.status_code == 415
    assert SandboxControl.get().clock_offset_seconds == 0


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://localhost:1"])
def test_a_cross_origin_request_is_refused_with_403(bare_sandbox, origin):
    posted = requests.post(f"{bare_sandbox.url}/_sandbox/faults", json=FAULT, headers={"Origin": origin}, timeout=10)
    page = requests.get(f"{bare_sandbox.url}/_sandbox/", headers={"Origin": origin}, timeout=10)

    assert (posted.status_code, page.status_code) == (403, 403)
    assert not Fault.objects.exists()


def test_a_same_origin_or_scripted_json_request_is_served(bare_sandbox):
    same_origin = requests.post(f"{bare_sandbox.url}/_sandbox/faults", json=FAULT,
                                headers={"Origin": bare_sandbox.url}, timeout=10)
    scripted = requests.post(f"{bare_sandbox.url}/_sandbox/faults", json={**FAULT, "kind": "500"}, timeout=10)
    charset = requests.post(f"{bare_sandbox.url}/_sandbox/clock", data=b'{"advance_seconds": 60}', timeout=10,
                            headers={"Content-Type": "application/json; charset=utf-8"})
    empty = requests.post(f"{bare_sandbox.url}/_sandbox/connect/flush", json={}, timeout=10)
    page = requests.get(f"{bare_sandbox.url}/_sandbox/", headers={"Origin": bare_sandbox.url}, timeout=10)

    assert [r.status_code for r in (same_origin, scripted, charset, empty, page)] == [201, 201, 200, 200, 200]
    assert Fault.objects.count() == 2
