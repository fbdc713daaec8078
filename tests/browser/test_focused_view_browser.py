"""In Chromium: a focused view's signing page really loads inside a frame of its frame ancestors, and nowhere else.

The "ISV page" is a tiny loopback server whose page holds an iframe of the signing URL. It is opened as
http://localhost:PORT (listed in frameAncestors) or http://127.0.0.1:PORT (another origin, not listed).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.sandbox.rest_support import recipient_view_request, serve_rest_sandbox

pytestmark = pytest.mark.browser
SIGNER = "Ana Signer"


class _IsvPage(BaseHTTPRequestHandler):
    frame_src = ""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = f'<!doctype html><title>ISV</title><iframe src="{self.frame_src}" width="800" height="600"></iframe>'
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def isv_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _IsvPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def rest(transactional_db):
    with serve_rest_sandbox() as sandbox:
        yield sandbox


def _signing_url(rest, **framing) -> str:
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]
    response = rest.call("POST", f"/envelopes/{envelope_id}/views/recipient", json=recipient_view_request(**framing))
    assert response.status_code == 201, response.text
    return response.json()["url"]


def _framed_text(page, parent: str, signing_url: str) -> str:
    """What the person sees inside the ISV page's frame once it has loaded (empty when the browser blocked it)."""
    _IsvPage.frame_src = signing_url
    with page.expect_response(lambda r: r.url == signing_url):
        page.goto(parent)
    page.wait_for_load_state("load")
    [frame] = [f for f in page.frames if f is not page.main_frame]
    try:
        return frame.inner_text("body", timeout=3_000)
    except Exception:  # a blocked frame holds Chromium's error page, or no body at all
        return ""


def test_a_focused_view_can_be_framed_by_its_frame_ancestor(page, rest, isv_port):
    listed = f"http://localhost:{isv_port}"
    url = _signing_url(rest, frameAncestors=[listed, rest.url], messageOrigins=[rest.url])

    assert SIGNER in _framed_text(page, f"{listed}/", url)


def test_a_focused_view_cannot_be_framed_by_another_origin(page, rest, isv_port):
    url = _signing_url(rest, frameAncestors=[f"http://localhost:{isv_port}", rest.url], messageOrigins=[rest.url])

    assert SIGNER not in _framed_text(page, f"http://127.0.0.1:{isv_port}/", url)


def test_a_classic_recipient_view_cannot_be_framed(page, rest, isv_port):
    url = _signing_url(rest)

    assert SIGNER not in _framed_text(page, f"http://localhost:{isv_port}/", url)
