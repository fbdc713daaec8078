"""WSGI entry point for the portal (gunicorn portal.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

# Fail closed: no web process without usable encryption keys (never a plaintext fallback).
from docusign_integration.encryption import validate_keys  # noqa: E402

validate_keys()
