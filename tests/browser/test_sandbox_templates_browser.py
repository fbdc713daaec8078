"""The sandbox console's Templates page, reached from the console's navigation in a real browser."""

from __future__ import annotations

from pathlib import Path

import pytest

from docusign_integration.client import http
from tests.sandbox.test_console_templates import _template

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
def sandbox(page, sandbox):
    """The browser is closed before the sandbox stops (see test_provision_consent_browser)."""
    page.set_viewport_size({"width": 1280, "height": 800})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield sandbox
    page.context.close()
    http.session.close()


@pytest.mark.browser
def test_the_console_lists_templates_with_their_roles(sandbox, page):
    _template("Lease")

    page.goto(f"{sandbox.url}/_sandbox/")
    page.get_by_role("link", name="Templates").click()
    page.wait_for_url(f"{sandbox.url}/_sandbox/console/templates")

    assert page.get_by_role("heading", name="Templates").is_visible()
    assert page.get_by_role("cell", name="Lease", exact=True).is_visible()
    assert page.get_by_text("Client (signer, routing order 1)").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "sandbox-console-templates.png"))
