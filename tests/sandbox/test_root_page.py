"""The sandbox's root page (`/` on its origin): what this is, the console's link (with control on), the README's section."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_root_page_says_what_the_sandbox_is_and_links_the_console_and_the_readme(sandbox):
    response = requests.get(f"{sandbox.url}/", timeout=10)

    assert response.status_code == 200
    assert "offline DocuSign" in response.text
    assert 'href="/_sandbox/"' in response.text
    assert "README.md#the-docusign-sandbox" in response.text


def test_without_control_the_root_page_does_not_link_the_console(sandbox, settings):
    settings.DOCUSIGN_SANDBOX_CONTROL = False

    response = requests.get(f"{sandbox.url}/", timeout=10)

    assert response.status_code == 200
    assert 'href="/_sandbox/"' not in response.text
