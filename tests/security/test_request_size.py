"""Request bodies are capped before anything reads them: 413 over the route's cap, 411 without a declared length.

Without the cap, one unauthenticated multipart POST to a sign-in page made Django spool its file part to a
temporary file (the CSRF check reads request.POST), however large. Each request here goes over loopback HTTP to
the portal behind runserver's request handler, with a body streamed from a generator, and the test counts the
bytes the portal read (tests/security/portal_server.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tests.security.portal_server import GIVE_UP_AFTER, post_streamed, serving_portal

MB = 1_048_576
CHUNK = 64 * 1024
CSRF_COOKIE = "csrftoken=" + "a" * 32  # any well-formed secret: an attacker gets one from GET /admin/login/
BOUNDARY = "size-test"


def multipart_file(declared: int) -> Iterator[bytes]:
    """A multipart body of `declared` bytes whose one part is a file (never held in memory)."""
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n\r\n{'a' * 32}\r\n"
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"document\"; filename=\"big.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n%PDF-").encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    filler = declared - len(head) - len(tail)
    yield head
    yield from itertools.repeat(b"\0" * CHUNK, filler // CHUNK)
    yield b"\0" * (filler % CHUNK)
    yield tail


def multipart_headers(declared: int) -> dict[str, str]:
    return {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Content-Length": str(declared),
            "Cookie": CSRF_COOKIE}


@pytest.fixture
def portal(transactional_db):
    # Database access allowed: the server thread's request_started handlers check the (shared) connection.
    with serving_portal() as server:
        yield server


@pytest.mark.parametrize("path", ["/admin/login/", "/accounts/login/"])
def test_300_mb_sent_to_a_sign_in_page_is_refused_with_413_after_reading_nothing(portal, path):
    declared = 300 * MB

    answer = post_streamed(portal, path, headers=multipart_headers(declared), body=multipart_file(declared))

    assert answer.sent < GIVE_UP_AFTER, f"the portal read on: {portal.last_body_read} bytes read without an answer"
    assert answer.status == 413
    assert portal.last_body_read < MB
    print(f"{path}: 413 after the portal read {portal.last_body_read} bytes (the client sent {answer.sent})")


def test_a_body_just_over_1_mb_is_refused_on_a_route_without_its_own_cap(portal):
    declared = MB + 1

    answer = post_streamed(portal, "/onboarding/", headers=multipart_headers(declared), body=multipart_file(declared))

    assert (answer.status, portal.last_body_read) == (413, 0)


def test_the_connect_listener_takes_bodies_up_to_its_own_cap(portal, settings):
    settings.DOCUSIGN_CONNECT_MAX_BODY = 2 * MB  # above the 1 MB of other routes, so the cap used must be the listener's
    json_headers = {"Content-Type": "application/json", "X-DocuSign-AccountId": "0" * 8 + "-0000-0000-0000-" + "0" * 12}

    within = post_streamed(portal, "/docusign/connect/", headers={**json_headers, "Content-Length": str(MB + MB // 2)},
                           body=itertools.repeat(b" " * CHUNK, (MB + MB // 2) // CHUNK))
    within_read = portal.last_body_read
    over = post_streamed(portal, "/docusign/connect/", headers={**json_headers, "Content-Length": str(2 * MB + 1)},
                         body=itertools.repeat(b" " * CHUNK, 2 * MB // CHUNK + 1))

    assert (within.status, within_read) == (401, MB + MB // 2)  # read whole, then refused for its missing signature
    assert (over.status, portal.last_body_read) == (413, 0)


def test_the_envelope_upload_page_takes_a_document_up_to_the_upload_cap(portal, settings):
    settings.DOCUSIGN_UPLOAD_MAX_BYTES = 3 * MB
    path = "/onboarding/acme/envelopes/new/"

    within = post_streamed(portal, path, headers=multipart_headers(2 * MB), body=multipart_file(2 * MB))
    over = post_streamed(portal, path, headers=multipart_headers(4 * MB), body=multipart_file(4 * MB))

    assert within.status != 413  # past the size cap: read, then the anonymous visitor is sent to sign in
    assert (over.status, portal.last_body_read) == (413, 0)


@pytest.mark.parametrize("path", ["/admin/login/", "/accounts/login/", "/docusign/connect/"])
def test_a_body_without_a_declared_length_is_refused_with_411(portal, path):
    pieces = itertools.chain((c for c in multipart_file(300 * MB) if c), [b""])  # b"": the last chunk
    chunks = (f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in pieces)
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Transfer-Encoding": "chunked",
               "Cookie": CSRF_COOKIE}

    answer = post_streamed(portal, path, headers=headers, body=chunks)

    assert (answer.status, portal.last_body_read) == (411, 0)


def test_a_malformed_content_length_is_refused_with_400(portal):
    answer = post_streamed(portal, "/accounts/login/", headers={"Content-Length": "12abc", "Cookie": CSRF_COOKIE},
                           body=[b"x" * 12])

    assert (answer.status, portal.last_body_read) == (400, 0)
