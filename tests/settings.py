"""Settings for the test suite: the project's settings with fixed test keys and fast hashing."""

import os

os.environ.setdefault("PORTAL_ENCRYPTION_KEYS", "dGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY=")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")

from portal.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DOCUSIGN_SANDBOX_CONTROL = True  # the tests steer the sandbox through /_sandbox/
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Staff two-factor off unless a test turns it on (force_login sessions are not OTP-verified), whatever DEBUG says.
PORTAL_STAFF_REQUIRE_OTP = False
