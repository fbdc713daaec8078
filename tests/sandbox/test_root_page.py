"""The sandbox's root page (`/` on its origin): what this is, the console's link (with control on), the README's
sandbox section (served by the sandbox itself, so the link works offline)."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_root_page_says_what_the_sandbox_is_and_links_the_console_and_the_readme(sandbox):
    response = requests.get(f"{sandbox.url}/", timeout=10)

    assert response.status_code == 200
    assert "offline DocuSign" in response.text
    assert 'href="/_sandbox/"' in response.text
    assert 'href="/readme"' in response.text


def test_the_readme_link_serves_the_readmes_sandbox_section_offline(sandbox):
    response = requests.get(f"{sandbox.url}/readme", timeout=10)

    assert response.status_code == 200
    assert response.text.startswith("## The DocuSign sandbox")
    assert "/_sandbox/console/envelopes" in response.text and "\n## " not in response.text


def test_without_control_the_root_page_does_not_link_the_console(sandbox, settings):
    settings.DOCUSIGN_SANDBOX_CONTROL = False

    response = requests.get(f"{sandbox.url}/", timeout=10)

    assert response.status_code == 200
    assert 'href="/_sandbox/"' not in response.text
