"""The one redirect URI routes every OAuth flow through a literal mapping, whatever a process imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from docusign_integration import urls
from docusign_integration.models import OAuthState
from docusign_integration.oauth import authorization_code, state
from docusign_integration.oauth.state import OAuthFlow

ROOT = Path(__file__).resolve().parents[2]


def test_every_oauth_flow_has_exactly_one_handler():
    assert set(urls.CALLBACK_HANDLERS) == set(OAuthFlow)
    assert urls.CALLBACK_HANDLERS[OAuthFlow.AUTHORIZATION_CODE] is authorization_code.authorization_code_callback


def test_a_fresh_process_that_imports_only_the_router_routes_every_flow():
    """Before: the "connect" handler was registered by importing authorization_code (pages.views did), so a process
    that had not imported it answered DocuSign's redirect for "Connect to DocuSign" with 400."""
    script = (
        "import django; django.setup()\n"
        "import sys\n"
        "from docusign_integration import urls\n"
        "from docusign_integration.oauth.state import OAuthFlow\n"
        "missing = sorted(set(OAuthFlow) - set(urls.CALLBACK_HANDLERS))\n"
        "print('missing:', missing, 'pages.views imported:', 'pages.views' in sys.modules)\n"
        "sys.exit(1 if missing else 0)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.django_db
def test_a_state_for_a_flow_without_a_handler_is_never_issued():
    request = RequestFactory().get("/")
    request.session = SessionStore()
    with pytest.raises(ValueError):
        state.issue_state(request, flow="no_such_flow", environment="sandbox", organization_id=None)
    assert not OAuthState.objects.exists()
