"""DocuSign's focused view over loopback HTTP: frameAncestors/messageOrigins checked, the signing page framable by them only."""

from __future__ import annotations

import pytest

from docusign_sandbox.models import ViewToken
from tests.sandbox.rest_support import RETURN_URL, Browser, recipient_view_request, serve_rest_sandbox

PORTAL = "https://portal.example"


@pytest.fixture
def rest(transactional_db):
    with serve_rest_sandbox() as sandbox:
        yield sandbox


def _recipient_view(rest, **framing):
    envelope_id = rest.create_envelope(status="sent")["envelopeId"]
    return rest.call("POST", f"/envelopes/{envelope_id}/views/recipient", json=recipient_view_request(**framing))


def _frame_ancestors(response) -> str:
    directives = [d.strip() for d in response.headers["Content-Security-Policy"].split(";")]
    [ancestors] = [d for d in directives if d.startswith("frame-ancestors ")]
    return ancestors


def test_a_focused_view_page_may_be_framed_by_its_frame_ancestors_only(rest):
    response = _recipient_view(rest, frameAncestors=[PORTAL, "http://localhost:3000", rest.url],
                               messageOrigins=[rest.url])
    assert response.status_code == 201, response.text

    page = Browser().open(response.json()["url"])

    assert page.status_code == 200 and "Ana Signer" in page.text
    assert _frame_ancestors(page) == f"frame-ancestors {PORTAL} http://localhost:3000 {rest.url}"
    assert "X-Frame-Options" not in page.headers
    # The rest of the page's policy stays as strict as any other page's.
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_a_classic_recipient_view_page_still_refuses_every_frame(rest):
    response = _recipient_view(rest)
    assert response.status_code == 201, response.text

    page = Browser().open(response.json()["url"])

    assert page.status_code == 200
    assert _frame_ancestors(page) == "frame-ancestors 'none'"
    assert page.headers["X-Frame-Options"] == "DENY"


def test_a_sender_view_cannot_smuggle_frame_ancestors_through_its_settings(rest):
    envelope_id = rest.create_envelope()["envelopeId"]
    body = {"returnUrl": RETURN_URL, "settings": {"frameAncestors": [PORTAL]}}
    url = rest.call("POST", f"/envelopes/{envelope_id}/views/sender", json=body).json()["url"]

    page = Browser().open(url)

    assert _frame_ancestors(page) == "frame-ancestors 'none'" and page.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(("frame_ancestors", "message_origins", "named"), [
    # Each list holds the signing origin too, so that only the bad value can be what is refused.
    (["https://portal.example/sign", "{own}"], None, "frameAncestors"),  # a path
    (["https://portal.example/", "{own}"], None, "frameAncestors"),  # even "/"
    (["https://portal.example?x=1", "{own}"], None, "frameAncestors"),
    (["portal.example", "{own}"], None, "frameAncestors"),  # not an origin
    (["http://portal.example", "{own}"], None, "frameAncestors"),  # http other than localhost
    (["https://user@portal.example", "{own}"], None, "frameAncestors"),
    (["https://portal.example:99999", "{own}"], None, "frameAncestors"),
    (["https://portal.example *", "{own}"], None, "frameAncestors"),  # would widen the page's policy to anyone
    (["https://portal.example;script-src *", "{own}"], None, "frameAncestors"),
    (["https://portal.example:", "{own}"], None, "frameAncestors"),
    ([PORTAL, 42, "{own}"], None, "frameAncestors"),
    ([PORTAL], None, "frameAncestors"),  # without the signing origin
    ("https://portal.example", None, "frameAncestors"),  # not a list
    ([PORTAL, "{own}"], [], "messageOrigins"),  # frame ancestors without message origins
    ([PORTAL, "{own}"], [PORTAL], "messageOrigins"),  # the message origin is DocuSign's own
    ([PORTAL, "{own}"], ["https://evil.example/x", "{own}"], "messageOrigins"),
    (None, ["{own}"], "frameAncestors"),  # message origins without frame ancestors
])
def test_bad_focused_view_origins_are_refused_in_docusigns_shape_and_issue_no_view(
        rest, frame_ancestors, message_origins, named):
    def own(values):
        return [rest.url if v == "{own}" else v for v in values] if isinstance(values, list) else values
    framing = {"frameAncestors": own(frame_ancestors), "messageOrigins": own(message_origins or [rest.url])}
    if message_origins == []:
        framing["messageOrigins"] = []
    if frame_ancestors is None:
        framing.pop("frameAncestors")

    response = _recipient_view(rest, **framing)

    assert response.status_code == 400, response.text
    assert response.json()["errorCode"] == "INVALID_REQUEST_PARAMETER"
    assert f"'{named}'" in response.json()["message"]
    assert not ViewToken.objects.exists()
