"""WSGI entry point for the portal (gunicorn portal.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

# Fail closed: no web process without usable encryption keys (never a plaintext fallback), nor without every key
# that stored secrets were encrypted with (it would fail on every read of them; docs/security.md TS-2).
from docusign_integration.keys.stored_keys import validate_keys_at_start  # noqa: E402

validate_keys_at_start()
